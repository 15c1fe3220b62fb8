"""Twilio REST redirect of a live call, against a local fake of the Twilio API (no internet)."""

import json
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from voiceagent.errors import TransferError
from voiceagent.twilio.rest import call_redirect_to_dial

CALL_SID = "CA" + "a" * 32


class FakeTwilioApi:
    """A tiny HTTP server answering Calls update like api.twilio.com, recording each request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status = HTTPStatus.OK
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                fake.requests.append(
                    {
                        "path": self.path,
                        "form": parse_qs(body),
                        "auth": self.headers["Authorization"],
                    }
                )
                sid = self.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json")
                if fake.status == HTTPStatus.OK:
                    payload = {"sid": sid, "status": "in-progress"}
                else:
                    payload = {"code": 20404, "message": "not found", "status": int(fake.status)}
                encoded = json.dumps(payload).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(encoded)))
                self.end_headers()
                self.wfile.write(encoded)

            def log_message(self, *args) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeTwilioApi":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_twilio(settings) -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi() as fake:
        settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
        settings.TWILIO_AUTH_TOKEN = "test-auth-token"
        settings.TWILIO_API_BASE_URL = fake.origin
        yield fake


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
