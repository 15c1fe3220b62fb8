"""Twilio REST redirect of a live call, against a local fake of the Twilio API (no internet)."""

from http import HTTPStatus

import pytest

from voiceagent.errors import TransferError
from voiceagent.twilio.rest import call_redirect_to_dial

CALL_SID = "CA" + "a" * 32


def test_redirect_updates_the_live_call_with_dial_twiml(fake_twilio):
    call_redirect_to_dial(call_sid=CALL_SID, to_number="+15550100000", say="Connecting you now.")

    [request] = fake_twilio.requests
    assert request["path"] == f"/2010-04-01/Accounts/AC{'0' * 32}/Calls/{CALL_SID}.json"
    document = request["form"]["Twiml"][0]
    assert "<Dial><Number>+15550100000</Number></Dial>" in document
    assert "<Say>Connecting you now.</Say>" in document
    assert request["auth"].startswith("Basic ")


def test_twilio_error_raises_transfer_error(fake_twilio):
    fake_twilio.status = HTTPStatus.NOT_FOUND

    with pytest.raises(TransferError, match=CALL_SID):
        call_redirect_to_dial(call_sid=CALL_SID, to_number="+15550100000")


def test_unreachable_twilio_raises_transfer_error(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = "test-auth-token"
    settings.TWILIO_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused

    with pytest.raises(TransferError, match="could not reach"):
        call_redirect_to_dial(call_sid=CALL_SID, to_number="+15550100000")


def test_missing_credentials_raise_transfer_error(settings):
    settings.TWILIO_ACCOUNT_SID = ""

    with pytest.raises(TransferError, match="not configured"):
        call_redirect_to_dial(call_sid=CALL_SID, to_number="+15550100000")


def test_missing_number_raises_transfer_error_without_calling_twilio(fake_twilio):
    with pytest.raises(TransferError, match="no number"):
        call_redirect_to_dial(call_sid=CALL_SID, to_number="")

    assert fake_twilio.requests == []
