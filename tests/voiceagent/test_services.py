"""Call record services: start, transcript, finish, transfer (Twilio faked over HTTP), messages."""

import datetime as dt
from http import HTTPStatus

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.voiceagent.conftest import CALLER_NUMBER, PRACTICE_NUMBER, new_call_sid
from voiceagent import services
from voiceagent.errors import CallNotFoundError
from voiceagent.models import (
    Call,
    CallbackStatus,
    CallOutcome,
    PracticeVoiceSettings,
    TranscriptTurn,
)
from voiceagent.selectors import voice_agent_availability

pytestmark = pytest.mark.django_db


def _stored(value) -> bytes:
    """A column's raw stored form as bytes (envelopes may come back as text or binary)."""
    return value.encode() if isinstance(value, str) else bytes(value)


def _events(action: AuditAction, resource_id) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, resource_id=str(resource_id)))


def test_call_start_records_the_call_encrypted_and_audits_it(practice):
    call_sid = new_call_sid()

    call = services.call_start(
        call_sid=call_sid,
        practice=practice,
        caller_number=CALLER_NUMBER,
        dialled_number=PRACTICE_NUMBER,
    )

    raw = Call.objects.filter(pk=call.pk).values_list("caller_number", flat=True).get()
    assert CALLER_NUMBER.encode() not in _stored(raw)
    assert Call.objects.get(pk=call.pk).caller_number == CALLER_NUMBER
    [event] = _events(AuditAction.CALL_START, call.pk)
    assert (event.actor_type, event.actor_id) == ("voice_agent", call_sid)
    assert CALLER_NUMBER not in str(event.detail)


def test_call_start_is_idempotent_per_call_sid(practice):
    first = services.call_start(
        call_sid="CA1", practice=practice, caller_number="", dialled_number=PRACTICE_NUMBER
    )
    again = services.call_start(
        call_sid="CA1", practice=practice, caller_number="", dialled_number=PRACTICE_NUMBER
    )

    assert first.pk == again.pk
    assert len(_events(AuditAction.CALL_START, first.pk)) == 1


def test_call_start_refuses_a_call_sid_of_another_practice(practice, other_practice):
    services.call_start(
        call_sid="CA1", practice=practice, caller_number="", dialled_number=PRACTICE_NUMBER
    )

    with pytest.raises(ValueError, match="another practice"):
        services.call_start(
            call_sid="CA1", practice=other_practice, caller_number="", dialled_number=""
        )


def test_transcript_turns_are_numbered_in_order_and_encrypted(call):
    services.transcript_turn_add(call_id=call.pk, role="caller", text="Hi, this is Jane Doe")
    services.transcript_turn_add(call_id=call.pk, role="agent", text="Hello Jane")

    turns = list(TranscriptTurn.objects.filter(call=call))
    assert [(t.seq, t.role, t.text) for t in turns] == [
        (1, "caller", "Hi, this is Jane Doe"),
        (2, "agent", "Hello Jane"),
    ]
    raw = list(TranscriptTurn.objects.filter(call=call).values_list("text", flat=True))
    assert all(b"Jane" not in _stored(value) for value in raw)


def test_transcript_turn_rejects_an_unknown_role(call):
    with pytest.raises(ValueError, match="role must be one of"):
        services.transcript_turn_add(call_id=call.pk, role="system", text="x")


def test_services_name_a_missing_call(db):
    with pytest.raises(CallNotFoundError):
        services.transcript_turn_add(
            call_id="00000000-0000-0000-0000-000000000000", role="caller", text="x"
        )


def test_call_finish_records_end_and_outcome_once(call):
    services.transcript_turn_add(call_id=call.pk, role="caller", text="bye")
    services.call_connected(call_id=call.pk, provider="openai")

    finished = services.call_finish(call_id=call.pk, outcome=CallOutcome.COMPLETED)
    again = services.call_finish(call_id=call.pk, outcome=CallOutcome.ABANDONED)

    assert finished.outcome == again.outcome == CallOutcome.COMPLETED
    assert again.ended_at == finished.ended_at
    [event] = _events(AuditAction.CALL_END, call.pk)
    assert event.detail["outcome"] == "completed"
    assert event.detail["turns"] == 1
    assert event.detail["provider"] == "openai"


def test_call_finish_keeps_a_transfer_recorded_during_the_call(call, fake_twilio):
    services.call_transfer(call_id=call.pk, reason="caller_request")

    finished = services.call_finish(call_id=call.pk, outcome=CallOutcome.COMPLETED)

    assert finished.outcome == CallOutcome.TRANSFERRED


def test_call_finish_refuses_a_non_final_outcome(call):
    with pytest.raises(ValueError, match="not a final call outcome"):
        services.call_finish(call_id=call.pk, outcome=CallOutcome.IN_PROGRESS)


def test_call_transfer_redirects_to_the_practice_line_and_records_it(call, fake_twilio):
    ok = services.call_transfer(call_id=call.pk, reason="clinical_question")

    assert ok is True
    [request] = fake_twilio.requests
    assert call.call_sid in request["path"]
    assert f"<Number>{call.practice.main_phone}</Number>" in request["form"]["Twiml"][0]
    call.refresh_from_db()
    assert call.transferred
    assert call.outcome == CallOutcome.TRANSFERRED
    [event] = _events(AuditAction.CALL_TRANSFER, call.pk)
    assert event.detail == {"call_sid": call.call_sid, "reason": "clinical_question", "ok": True}


def test_failed_transfer_returns_false_and_is_audited(call, fake_twilio):
    fake_twilio.status = HTTPStatus.INTERNAL_SERVER_ERROR

    ok = services.call_transfer(call_id=call.pk, reason="caller_request")

    assert ok is False
    call.refresh_from_db()
    assert not call.transferred
    assert call.outcome == CallOutcome.IN_PROGRESS
    [event] = _events(AuditAction.CALL_TRANSFER, call.pk)
    assert event.detail["ok"] is False


def test_transfer_reason_outside_the_codes_is_recorded_as_other(call, fake_twilio):
    services.call_transfer(call_id=call.pk, reason="caller says her knee hurts")

    [event] = _events(AuditAction.CALL_TRANSFER, call.pk)
    assert event.detail["reason"] == "other"


def test_callback_request_is_encrypted_marks_the_call_and_is_audited(call, patient):
    request = services.callback_request_create(
        call_id=call.pk,
        caller_name="Jane Doe",
        callback_number=CALLER_NUMBER,
        message="Please call about my results",
        patient_id=patient.pk,
    )

    assert request.practice_id == call.practice_id
    assert request.callback_number == CALLER_NUMBER
    call.refresh_from_db()
    assert call.outcome == CallOutcome.MESSAGE_TAKEN
    [event] = _events(AuditAction.CALL_MESSAGE_TAKEN, request.pk)
    assert event.detail == {"call_id": str(call.pk), "patient_id": str(patient.pk)}


def test_callback_request_needs_a_name_and_a_message(call):
    with pytest.raises(ValueError, match="name and a message"):
        services.callback_request_create(
            call_id=call.pk, caller_name=" ", callback_number="", message="hi"
        )


def test_callback_request_close_records_who_and_when(call, django_user_model):
    request = services.callback_request_create(
        call_id=call.pk, caller_name="Sam", callback_number="", message="Call me"
    )
    staff = django_user_model.objects.create_user(username="desk", password="x")

    closed = services.callback_request_close(callback_request=request, actor=staff)

    assert closed.status == CallbackStatus.DONE
    assert closed.done_by == staff
    [event] = _events(AuditAction.RECORD_UPDATE, request.pk)
    assert event.actor_id == str(staff.pk)


def test_voice_config_defaults_to_agent_off(practice):
    config = services.practice_voice_config(practice_id=practice.pk)

    assert config.agent_enabled is False
    assert config.main_phone == practice.main_phone
    assert "Maple Street Clinic" in config.instructions
    assert config.model == "gpt-realtime"


def test_voice_config_adds_practice_notes_and_uses_the_azure_deployment(practice, settings):
    settings.AZURE_OPENAI_REALTIME_DEPLOYMENT = "clarion-realtime"
    PracticeVoiceSettings.objects.create(
        practice=practice,
        agent_enabled=True,
        provider="azure-openai",
        instructions="We are closed on public holidays.",
        turn_detection="semantic_vad",
        record_calls=True,
    )

    config = services.practice_voice_config(practice_id=practice.pk)

    assert config.provider == "azure-openai"
    assert config.model == "clarion-realtime"
    assert config.instructions.endswith("We are closed on public holidays.")
    assert (config.turn_detection, config.record_calls) == ("semantic_vad", True)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"agent_enabled": False}, "agent_disabled"),
        ({"strict_without_baa": True}, "provider_without_baa"),
        ({"no_key": True}, "provider_not_configured"),
        ({"no_public_url": True}, "twilio_not_configured"),
        ({}, ""),
    ],
)
def test_availability_names_why_the_agent_cannot_answer(
    practice, twilio_settings, monkeypatch, change, reason
):
    PracticeVoiceSettings.objects.create(
        practice=practice, agent_enabled=change.get("agent_enabled", True)
    )
    if not change.get("no_key"):
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    else:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    if change.get("strict_without_baa"):
        twilio_settings.PHI_EGRESS_BAA = {**twilio_settings.PHI_EGRESS_BAA, "openai": False}
    if change.get("no_public_url"):
        twilio_settings.PUBLIC_BASE_URL = ""

    availability = voice_agent_availability(services.practice_voice_config(practice_id=practice.pk))

    assert availability.available is (reason == "")
    assert availability.reason == reason


def test_duration_is_known_once_the_call_ends(call):
    assert call.duration_seconds is None
    call.ended_at = call.started_at + dt.timedelta(seconds=42)
    assert call.duration_seconds == 42


def test_stream_failing_after_a_transfer_keeps_the_transfer_as_outcome(call, fake_twilio):
    services.call_transfer(call_id=call.pk, reason="caller_request")

    finished = services.call_finish(call_id=call.pk, outcome=CallOutcome.FAILED)

    assert finished.outcome == CallOutcome.TRANSFERRED


def test_azure_practice_is_available_once_azure_is_configured(practice, twilio_settings):
    PracticeVoiceSettings.objects.create(
        practice=practice, agent_enabled=True, provider="azure-openai"
    )
    config = services.practice_voice_config(practice_id=practice.pk)
    assert voice_agent_availability(config).reason == "provider_not_configured"

    twilio_settings.AZURE_OPENAI_ENDPOINT = "https://clarion.openai.azure.example"
    twilio_settings.AZURE_OPENAI_API_KEY = "azure-test-key"
    twilio_settings.AZURE_OPENAI_REALTIME_DEPLOYMENT = "clarion-realtime"

    assert voice_agent_availability(
        services.practice_voice_config(practice_id=practice.pk)
    ).available
