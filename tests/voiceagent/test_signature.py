"""Twilio signatures are checked against PUBLIC_BASE_URL and fail closed without secrets."""

import pytest
from twilio.request_validator import RequestValidator

from voiceagent.twilio.signature import public_url, validate_twilio_signature

PARAMS = {"CallSid": "CA" + "1" * 32, "To": "+15550100000"}


@pytest.fixture(autouse=True)
def _twilio_settings(settings):
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.PUBLIC_BASE_URL = "https://voice.example.test"


def test_valid_signature_of_the_public_url_verifies():
    url = public_url("/voice/twilio/incoming/")
    signature = RequestValidator("test-auth-token").compute_signature(url, PARAMS)

    assert validate_twilio_signature(url=url, params=PARAMS, signature=signature)


def test_signature_under_another_token_fails():
    url = public_url("/voice/twilio/incoming/")
    signature = RequestValidator("other-token").compute_signature(url, PARAMS)

    assert not validate_twilio_signature(url=url, params=PARAMS, signature=signature)


def test_tampered_parameters_fail():
    url = public_url("/voice/twilio/incoming/")
    signature = RequestValidator("test-auth-token").compute_signature(url, PARAMS)

    assert not validate_twilio_signature(
        url=url, params={**PARAMS, "To": "+15550199999"}, signature=signature
    )


def test_nothing_verifies_without_an_auth_token(settings):
    url = public_url("/voice/twilio/incoming/")
    signature = RequestValidator("").compute_signature(url, PARAMS)
    settings.TWILIO_AUTH_TOKEN = ""

    assert not validate_twilio_signature(url=url, params=PARAMS, signature=signature)


def test_public_url_for_the_websocket_uses_wss():
    assert public_url("/voice/twilio/stream/", websocket=True) == (
        "wss://voice.example.test/voice/twilio/stream/"
    )


def test_public_url_is_empty_without_a_base_url(settings):
    settings.PUBLIC_BASE_URL = ""

    assert public_url("/voice/twilio/incoming/") == ""
