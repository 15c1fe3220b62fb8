"""The database itself refuses to change or delete audit events and chain links (triggers
from migration 0004); the audit insert is prepared on Postgres."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from audit.actions import AuditAction
from audit.chain import chain_integrate
from audit.db import immutability_enforced
from audit.models import AuditEvent, ChainLink
from audit.services import audit_record

pytestmark = pytest.mark.django_db


def _sealed_event() -> AuditEvent:
    event = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=None,
        resource_type="clinic.patient",
        resource_id="p1",
        practice_id="pr1",
    )
    chain_integrate()
    event.refresh_from_db()
    return event


def test_update_of_a_sealed_event_is_refused():
    event = _sealed_event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")


def test_update_of_a_pending_event_is_refused():
    event = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=None,
        resource_type="x",
        resource_id=None,
        practice_id=None,
    )
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action=101)


def test_update_of_a_chain_link_is_refused():
    event = _sealed_event()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ChainLink.objects.filter(event_id=event.pk).update(hash="f" * 64)


def test_delete_of_a_chain_link_is_refused():
    event = _sealed_event()
    with (
        immutability_enforced(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
    ):
        ChainLink.objects.filter(event_id=event.pk).delete()
    assert ChainLink.objects.filter(event_id=event.pk).exists()


def test_delete_is_refused():
    event = _sealed_event()
    with (
        immutability_enforced(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
    ):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "model"), [("audit_auditevent", AuditEvent), ("audit_chainlink", ChainLink)]
)
def test_truncate_is_refused_on_postgres(table, model):
    _sealed_event()
    with (
        immutability_enforced(),
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"TRUNCATE {table}")
    assert model.objects.exists()


def test_raw_sql_update_is_refused_too():
    event = _sealed_event()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = %s WHERE id = %s", ["mallory", event.pk]
        )


@pytest.mark.postgres
def test_the_audit_insert_is_prepared_once_per_connection_on_postgres():
    for _ in range(3):
        audit_record(
            action=AuditAction.PATIENT_VIEW,
            actor=None,
            resource_type="x",
            resource_id="1",
            practice_id=None,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%INSERT INTO audit_auditevent%"],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
def test_the_audit_insert_can_be_left_unprepared_for_poolers(settings, monkeypatch):
    from audit import services

    def must_not_prepare(connection):
        raise AssertionError("AUDIT_PREPARED_INSERT=False must not prepare the insert")

    monkeypatch.setattr(services, "prepared_cursor", must_not_prepare)
    settings.AUDIT_PREPARED_INSERT = False
    event = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=None,
        resource_type="x",
        resource_id="1",
        practice_id=None,
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
