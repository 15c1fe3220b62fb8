"""Fixtures for the receptionist's tests: two practices with numbers, providers and patients,
Twilio settings, and a helper that signs webhook requests as Twilio does."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
from twilio.request_validator import RequestValidator

from clinic import services as clinic_services
from clinic.models import Patient, Practice, Provider
from tests.clinic.conftest import tenants  # noqa: F401 -- the clinic's two-tenant fixture, shared
from voiceagent import services
from voiceagent.models import Call, PracticeVoiceSettings

AUTH_TOKEN = "test-auth-token"
PUBLIC_BASE_URL = "https://voice.example.test"
PRACTICE_NUMBER = "+12015550100"
OTHER_PRACTICE_NUMBER = "+12015550200"
CALLER_NUMBER = "+12015559876"
ALL_WEEK = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def new_call_sid() -> str:
    """A fresh Twilio-shaped CallSid."""
    return "CA" + uuid.uuid4().hex


def make_practice(*, name: str, slug: str, number: str, main_phone: str) -> Practice:
    """A practice open every day 08-18 with one inbound number."""
    practice = clinic_services.practice_create(
        actor=None,
        name=name,
        slug=slug,
        main_phone=main_phone,
        address="1 Main Street, Springfield",
        opening_hours=ALL_WEEK,
    )
    clinic_services.practice_phone_number_create(actor=None, practice=practice, e164=number)
    return practice


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.PHI_EGRESS_STRICT = True
    settings.PHI_EGRESS_BAA = {**settings.PHI_EGRESS_BAA, "openai": True, "azure-openai": True}
    return settings


@pytest.fixture
def openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-real")


@pytest.fixture
def practice(db) -> Practice:
    return make_practice(
        name="Maple Street Clinic", slug="maple", number=PRACTICE_NUMBER, main_phone="+12015550101"
    )


@pytest.fixture
def other_practice(db) -> Practice:
    return make_practice(
        name="Oak Avenue Clinic",
        slug="oak",
        number=OTHER_PRACTICE_NUMBER,
        main_phone="+12015550201",
    )


@pytest.fixture
def voice_on(practice) -> PracticeVoiceSettings:
    return PracticeVoiceSettings.objects.create(practice=practice, agent_enabled=True)


@pytest.fixture
def provider(practice) -> Provider:
    return clinic_services.provider_create(
        actor=None, practice=practice, first_name="Ada", last_name="Grey", title="Dr."
    )


@pytest.fixture
def patient(practice) -> Patient:
    return clinic_services.patient_create(
        actor=None,
        practice=practice,
        first_name="Jane",
        last_name="Doe",
        date_of_birth=dt.date(1980, 3, 3),
        phone=CALLER_NUMBER,
    )


@pytest.fixture
def call(practice) -> Call:
    return services.call_start(
        call_sid=new_call_sid(),
        practice=practice,
        caller_number=CALLER_NUMBER,
        dialled_number=PRACTICE_NUMBER,
    )


@pytest.fixture
def signed_post(client, twilio_settings) -> Callable:
    """POST form data to a voice webhook, signed for PUBLIC_BASE_URL + path like Twilio."""

    def post(path: str, data: dict, *, signature: str | None = None, **extra):
        if signature is None:
            signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + path, data)
        headers = {"HTTP_X_TWILIO_SIGNATURE": signature} if signature else {}
        return client.post(path, data, **headers, **extra)

    return post


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

    def __enter__(self) -> FakeTwilioApi:
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
