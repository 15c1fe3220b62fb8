"""audit_record: joins the caller's transaction, resolves actors, takes context, refuses bad input."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from audit.actions import AuditAction
from audit.actors import Actor, ActorType
from audit.chain import pending_count
from audit.context import audit_context
from audit.models import AuditEvent, PendingEvent
from audit.services import audit_record


def _view(actor, **extra):
    return audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=actor,
        resource_type="clinic.patient",
        resource_id="p-1",
        practice_id="practice-1",
        detail=extra or None,
    )


@pytest.mark.django_db
def test_record_stores_user_actor_and_context():
    user = get_user_model().objects.create_user(username="alice", password="x" * 12)
    with audit_context(request_id="req-12345678", ip="192.0.2.7"):
        event = _view(user, fields=["first_name"])
    event.refresh_from_db()
    assert (event.actor_type, event.actor_id, event.actor_label) == ("user", str(user.pk), "alice")
    assert (event.request_id, event.ip) == ("req-12345678", "192.0.2.7")
    assert event.action == AuditAction.PATIENT_VIEW
    assert event.detail == {"fields": ["first_name"]}
    assert event.seq is None  # sealed after commit; the test transaction never commits


@pytest.mark.django_db
def test_record_with_none_actor_is_the_system():
    event = _view(None)
    assert event.actor_type == ActorType.SYSTEM


@pytest.mark.django_db
def test_record_with_voice_agent_actor_names_the_call():
    event = _view(Actor.voice_agent("CA123"))
    assert (event.actor_type, event.actor_id) == ("voice_agent", "CA123")


@pytest.mark.django_db
def test_record_rolls_back_with_the_business_transaction():
    def failing_business_change():
        with transaction.atomic():
            _view(None)
            raise RuntimeError("business change failed")

    with pytest.raises(RuntimeError):
        failing_business_change()
    assert not AuditEvent.objects.exists()
    assert not PendingEvent.objects.exists()


@pytest.mark.django_db
def test_record_queues_the_event_for_sealing_in_the_same_transaction():
    event = _view(None)
    assert list(PendingEvent.objects.values_list("event_id", flat=True)) == [event.id]
    assert pending_count() == 1


@pytest.mark.django_db(transaction=True)
def test_committed_event_is_sealed_after_commit():
    with transaction.atomic():
        event = _view(None)
    event.refresh_from_db()
    assert event.seq == 1
    assert pending_count() == 0


@pytest.mark.django_db
def test_record_refuses_unknown_action_and_bad_actor():
    with pytest.raises(ValueError, match="AuditAction"):
        audit_record(
            action=99999, actor=None, resource_type="x", resource_id=None, practice_id=None
        )
    with pytest.raises(TypeError, match="actor"):
        _view("alice")


@pytest.mark.django_db
def test_record_refuses_oversized_detail():
    with pytest.raises(ValueError, match="under"):
        _view(None, blob="x" * 9000)
