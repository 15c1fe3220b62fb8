"""Fixtures for the receptionist's tests: two practices with numbers, providers and patients,
Twilio settings, and a helper that signs webhook requests as Twilio does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

import pytest
from twilio.request_validator import RequestValidator

from clinic import services as clinic_services
from clinic.models import Patient, Practice, Provider
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
    settings.VOICE_STRICT_BAA = True
    settings.VOICE_PROVIDERS_WITH_BAA = ("openai", "azure-openai")
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
