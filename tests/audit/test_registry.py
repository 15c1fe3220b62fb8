"""Writes of registered models are recorded; bulk paths are recorded per row or refused."""

from __future__ import annotations

import uuid

import pytest

from audit.actions import AuditAction
from audit.context import audit_context
from audit.errors import AuditBulkOperationRefused
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_create_records_event_with_practice(audited_thing_model, practice_id):
    thing = audited_thing_model.objects.create(practice_id=practice_id, name="n")
    [event] = _events(AuditAction.PATIENT_CREATE)
    assert event.resource_type == "tests.auditedthing"
    assert event.resource_id == str(thing.pk)
    assert event.practice_id == str(practice_id)
    assert "name" in event.detail["fields"]


def test_update_records_only_changed_field_names(audited_thing_model, practice_id):
    thing = audited_thing_model.objects.create(practice_id=practice_id, name="n")
    thing = audited_thing_model.objects.get(pk=thing.pk)
    thing.note = "changed"
    thing.save()
    [event] = _events(AuditAction.PATIENT_UPDATE)
    assert event.detail == {"fields": ["note"]}


def test_update_detail_never_holds_values(audited_thing_model, practice_id):
    thing = audited_thing_model.objects.create(practice_id=practice_id, name="n")
    thing.name = "Sensitive Name"
    thing.save()
    assert (
        "Sensitive"
        not in AuditEvent.objects.get(action=AuditAction.PATIENT_UPDATE).detail.__repr__()
    )


def test_signal_events_take_the_context_actor(audited_thing_model, practice_id, django_user_model):
    user = django_user_model.objects.create_user(username="bob", password="x" * 12)
    with audit_context(actor=user):
        audited_thing_model.objects.create(practice_id=practice_id, name="n")
    [event] = _events(AuditAction.PATIENT_CREATE)
    assert event.actor_label == "bob"


def test_delete_and_queryset_delete_record_each_row(audited_thing_model, practice_id):
    things = [
        audited_thing_model.objects.create(practice_id=practice_id, name=str(i)) for i in range(3)
    ]
    pks = {str(t.pk) for t in things}
    things[0].delete()
    audited_thing_model.objects.filter(pk__in=[t.pk for t in things[1:]]).delete()
    deleted = {e.resource_id for e in _events(AuditAction.PATIENT_DELETE)}
    assert deleted == pks


def test_queryset_update_records_each_row(audited_thing_model, practice_id):
    things = [
        audited_thing_model.objects.create(practice_id=practice_id, name=str(i)) for i in range(3)
    ]
    count = audited_thing_model.objects.filter(name__in=["0", "1"]).update(note="x")
    assert count == 2
    events = _events(AuditAction.PATIENT_UPDATE)
    assert {e.resource_id for e in events} == {str(things[0].pk), str(things[1].pk)}
    assert all(e.detail == {"fields": ["note"], "bulk": "update"} for e in events)


def test_bulk_update_records_each_row(audited_thing_model, practice_id):
    things = [
        audited_thing_model.objects.create(practice_id=practice_id, name=str(i)) for i in range(2)
    ]
    for thing in things:
        thing.note = "y"
    audited_thing_model.objects.bulk_update(things, ["note"])
    events = _events(AuditAction.PATIENT_UPDATE)
    assert {e.resource_id for e in events} == {str(t.pk) for t in things}
    assert events[0].detail["bulk"] == "bulk_update"


def test_bulk_create_records_each_row(audited_thing_model, practice_id):
    things = audited_thing_model.objects.bulk_create(
        [audited_thing_model(practice_id=practice_id, name=str(i)) for i in range(3)]
    )
    events = _events(AuditAction.PATIENT_CREATE)
    assert {e.resource_id for e in events} == {str(t.pk) for t in things}
    assert all(e.detail["bulk"] == "bulk_create" for e in events)


def test_bulk_create_ignoring_conflicts_is_refused(audited_thing_model, practice_id):
    with pytest.raises(AuditBulkOperationRefused, match="save\\(\\) each object"):
        audited_thing_model.objects.bulk_create(
            [audited_thing_model(practice_id=practice_id, name="a")], ignore_conflicts=True
        )
    assert not audited_thing_model.objects.exists()


def test_unregistered_models_bulk_paths_are_untouched(django_user_model):
    django_user_model.objects.bulk_create([django_user_model(username=f"u{uuid.uuid4().hex[:6]}")])
    django_user_model.objects.update(first_name="x")
    assert not AuditEvent.objects.filter(resource_type="auth.user").exists()
