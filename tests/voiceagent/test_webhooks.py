"""The incoming-call webhook: signature first, then always TwiML (stream, forward or message)."""

import logging
from http import HTTPStatus
from xml.etree import ElementTree  # our own TwiML responses, not untrusted input

import pytest
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from tests.voiceagent.conftest import (
    CALLER_NUMBER,
    OTHER_PRACTICE_NUMBER,
    PRACTICE_NUMBER,
    PUBLIC_BASE_URL,
    new_call_sid,
)
from voiceagent.models import Call, CallOutcome, PracticeVoiceSettings, StreamToken
from voiceagent.twilio import twiml
from voiceagent.twilio.tokens import stream_token_redeem

pytestmark = pytest.mark.django_db
INCOMING = "/voice/twilio/incoming/"
STATUS = "/voice/twilio/status/"


def _parse(response) -> ElementTree.Element:
    return ElementTree.fromstring(response.content)  # noqa: S314 -- our own TwiML


def _incoming(call_sid: str, to: str = PRACTICE_NUMBER) -> dict:
    return {"CallSid": call_sid, "From": CALLER_NUMBER, "To": to, "AccountSid": "AC" + "0" * 32}


def test_incoming_url_is_named():
    assert reverse("voiceagent:twilio-incoming") == INCOMING


def test_signed_call_gets_a_stream_with_a_token_bound_to_the_call(
    signed_post, voice_on, openai_key
):
    call_sid = new_call_sid()

    response = signed_post(INCOMING, _incoming(call_sid))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/xml")
    stream = _parse(response).find("./Connect/Stream")
    assert stream.get("url") == "wss://voice.example.test/voice/twilio/stream/"
    token = stream.find("./Parameter[@name='token']").get("value")
    call = Call.objects.get(call_sid=call_sid)
    assert call.practice == voice_on.practice
    assert call.caller_number == CALLER_NUMBER
    grant = stream_token_redeem(token=token, call_sid=call_sid)
    assert (grant.practice_id, grant.call_id) == (voice_on.practice_id, call.pk)
    assert AuditEvent.objects.filter(
        action=AuditAction.CALL_START, resource_id=str(call.pk)
    ).exists()


def test_forged_signature_is_refused_with_403_and_nothing_recorded(signed_post, voice_on):
    response = signed_post(INCOMING, _incoming(new_call_sid()), signature="Zm9yZ2Vk")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Call.objects.exists()
    assert not StreamToken.objects.exists()


def test_unsigned_request_is_refused_with_403(signed_post, voice_on):
    response = signed_post(INCOMING, _incoming(new_call_sid()), signature="")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_signature_for_tampered_parameters_is_refused(signed_post, voice_on):
    from twilio.request_validator import RequestValidator

    data = _incoming(new_call_sid())
    signature = RequestValidator("test-auth-token").compute_signature(
        PUBLIC_BASE_URL + INCOMING, data
    )

    response = signed_post(INCOMING, {**data, "To": OTHER_PRACTICE_NUMBER}, signature=signature)

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_host_header_cannot_make_a_signature_for_another_origin_verify(
    signed_post, voice_on, settings
):
    from twilio.request_validator import RequestValidator

    settings.ALLOWED_HOSTS = ["*"]
    data = _incoming(new_call_sid())
    # Signed for the attacker's own origin, sent with that Host: still checked against ours.
    signature = RequestValidator("test-auth-token").compute_signature(
        "https://attacker.test" + INCOMING, data
    )

    response = signed_post(INCOMING, data, signature=signature, HTTP_HOST="attacker.test")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_host_header_does_not_break_a_genuine_signature(
    signed_post, voice_on, openai_key, settings
):
    settings.ALLOWED_HOSTS = ["*"]

    response = signed_post(INCOMING, _incoming(new_call_sid()), HTTP_HOST="internal-lb.local")

    assert response.status_code == HTTPStatus.OK
    assert _parse(response).find("./Connect/Stream") is not None


def test_get_is_not_allowed(client, twilio_settings):
    assert client.get(INCOMING).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_unknown_number_plays_a_message_and_hangs_up(signed_post, voice_on):
    response = signed_post(INCOMING, _incoming(new_call_sid(), to="+12015550999"))

    assert response.status_code == HTTPStatus.OK
    root = _parse(response)
    assert root.find("./Say").text == twiml.UNKNOWN_NUMBER_MESSAGE
    assert root.find("./Hangup") is not None
    assert not Call.objects.exists()


def test_agent_switched_off_forwards_to_the_main_line(signed_post, practice, openai_key):
    PracticeVoiceSettings.objects.create(practice=practice, agent_enabled=False)
    call_sid = new_call_sid()

    response = signed_post(INCOMING, _incoming(call_sid))

    assert _parse(response).find("./Dial/Number").text == practice.main_phone
    call = Call.objects.get(call_sid=call_sid)
    assert call.outcome == CallOutcome.FORWARDED_NO_AGENT
    assert call.ended_at is not None


def test_practice_without_voice_settings_forwards(signed_post, practice, openai_key):
    response = signed_post(INCOMING, _incoming(new_call_sid()))

    assert _parse(response).find("./Dial/Number").text == practice.main_phone


def test_provider_without_credentials_forwards(signed_post, voice_on, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)

    response = signed_post(INCOMING, _incoming(new_call_sid()))

    assert _parse(response).find("./Dial/Number").text == voice_on.practice.main_phone


def test_provider_without_baa_in_strict_mode_forwards(signed_post, voice_on, openai_key, settings):
    settings.PHI_EGRESS_BAA = {**settings.PHI_EGRESS_BAA, "openai": False}

    response = signed_post(INCOMING, _incoming(new_call_sid()))

    assert _parse(response).find("./Dial/Number").text == voice_on.practice.main_phone
    assert not StreamToken.objects.exists()


def test_provider_without_baa_streams_when_strict_mode_is_off(
    signed_post, voice_on, openai_key, settings
):
    settings.PHI_EGRESS_BAA = {**settings.PHI_EGRESS_BAA, "openai": False}
    settings.PHI_EGRESS_STRICT = False

    response = signed_post(INCOMING, _incoming(new_call_sid()))

    assert _parse(response).find("./Connect/Stream") is not None


def test_unexpected_error_forwards_instead_of_an_error_page(
    signed_post, voice_on, openai_key, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr("voiceagent.twilio.webhooks.stream_token_issue", broken)

    call_sid = new_call_sid()

    response = signed_post(INCOMING, _incoming(call_sid))

    assert response.status_code == HTTPStatus.OK
    assert _parse(response).find("./Dial/Number").text == voice_on.practice.main_phone
    call = Call.objects.get(call_sid=call_sid)
    assert (call.outcome, call.ended_at is not None) == (CallOutcome.FORWARDED_NO_AGENT, True)


def test_retried_webhook_reuses_the_call(signed_post, voice_on, openai_key):
    call_sid = new_call_sid()

    signed_post(INCOMING, _incoming(call_sid))
    signed_post(INCOMING, _incoming(call_sid))

    assert Call.objects.filter(call_sid=call_sid).count() == 1


def test_logs_never_carry_the_caller_number(signed_post, voice_on, openai_key, caplog):
    caplog.set_level(logging.DEBUG)

    signed_post(INCOMING, _incoming(new_call_sid()))
    signed_post(INCOMING, _incoming(new_call_sid()), signature="Zm9yZ2Vk")
    signed_post(INCOMING, _incoming(new_call_sid(), to="+12015550999"))

    assert caplog.records
    digits = CALLER_NUMBER.lstrip("+")
    for record in caplog.records:
        assert digits not in record.getMessage()
        assert CALLER_NUMBER[-7:] not in record.getMessage()


def test_forged_request_is_logged_by_path(signed_post, voice_on, caplog):
    caplog.set_level(logging.WARNING, logger="voiceagent")

    signed_post(INCOMING, _incoming(new_call_sid()), signature="Zm9yZ2Vk")

    assert any("voice.webhook.forbidden" in r.getMessage() for r in caplog.records)


def test_status_callback_closes_a_call_whose_stream_never_connected(signed_post, call):
    response = signed_post(STATUS, {"CallSid": call.call_sid, "CallStatus": "completed"})

    assert response.status_code == HTTPStatus.OK
    call.refresh_from_db()
    assert call.outcome == CallOutcome.ABANDONED
    assert call.ended_at is not None


def test_status_callback_leaves_connected_calls_to_the_bridge(signed_post, call):
    from voiceagent import services

    services.call_connected(call_id=call.pk, provider="openai")

    signed_post(STATUS, {"CallSid": call.call_sid, "CallStatus": "completed"})

    call.refresh_from_db()
    assert call.ended_at is None


def test_forged_status_callback_is_refused(signed_post, call):
    response = signed_post(
        STATUS, {"CallSid": call.call_sid, "CallStatus": "completed"}, signature="Zm9yZ2Vk"
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    call.refresh_from_db()
    assert call.ended_at is None
