"""Reads of the receptionist's records and configuration, always within a practice scope.

Invariant: a call's configuration comes from its practice only; whether a realtime session
may be opened is decided here once (`voice_agent_availability`), so the webhook and the bridge
cannot disagree: agent switched on, provider configured, and the provider allowed raw PHI by
the egress registry (phi.egress: a BAA, or PHI_EGRESS_STRICT off; strict is the default).
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from clinic.models import Practice
from phi.egress import UnknownProcessorError, processor_allowed_for_phi
from voiceagent.models import (
    Call,
    CallbackRequest,
    PracticeVoiceSettings,
    TranscriptTurn,
    TurnDetection,
    VoiceProvider,
)

logger = logging.getLogger(__name__)

BASE_INSTRUCTIONS = """You are the phone receptionist of {practice}. Be brief, warm and clear; \
callers are on the phone. Speak the caller's language if you can.
Rules you must follow:
- Before anything about appointments, ask for the caller's full name and date of birth and call \
verify_identity. Pass the date of birth as YYYY-MM-DD. Never read a date of birth back.
- You never know or ask for patient ids, record numbers or other patients' information.
- Use list_appointments, find_open_slots, book_appointment, cancel_appointment and \
reschedule_appointment only after verification; refer to appointments and slots by the \
references the tools return. Confirm date and time with the caller before booking or changing.
- For medical questions, emergencies or anything you cannot do, offer transfer_to_staff or \
take_message. For an emergency, tell the caller to hang up and dial 911.
- practice_info gives hours and address. When the caller is done, say goodbye and call end_call.
"""


@dataclass(frozen=True)
class VoiceConfig:
    """Everything the bridge needs to open a realtime session for one practice's call."""

    practice_id: uuid.UUID
    practice_name: str
    agent_enabled: bool
    provider: str
    model: str
    voice: str
    instructions: str
    turn_detection: str
    record_calls: bool
    main_phone: str
    timezone: str
    address: str
    opening_hours: dict


@dataclass(frozen=True)
class Availability:
    """Whether a realtime session may be opened, and if not, a reason code (no PHI)."""

    available: bool
    reason: str = ""


def _model_for(provider: str) -> str:
    if provider == VoiceProvider.AZURE_OPENAI:
        return settings.AZURE_OPENAI_REALTIME_DEPLOYMENT
    return settings.OPENAI_REALTIME_MODEL


def practice_voice_config(*, practice_id: uuid.UUID | str) -> VoiceConfig:
    """The practice's voice configuration (defaults when it has no PracticeVoiceSettings row)."""
    practice = Practice.objects.get(pk=practice_id)
    voice = PracticeVoiceSettings.objects.filter(practice=practice).first()
    if voice is None:
        voice = PracticeVoiceSettings(practice=practice)
    instructions = BASE_INSTRUCTIONS.format(practice=practice.name)
    if voice.instructions.strip():
        instructions += "\nPractice notes:\n" + voice.instructions.strip()
    return VoiceConfig(
        practice_id=practice.pk,
        practice_name=practice.name,
        agent_enabled=voice.agent_enabled,
        provider=voice.provider,
        model=_model_for(voice.provider),
        voice=voice.voice,
        instructions=instructions,
        turn_detection=voice.turn_detection or TurnDetection.SERVER_VAD,
        record_calls=voice.record_calls,
        main_phone=practice.main_phone or "",
        timezone=practice.timezone,
        address=practice.address,
        opening_hours=dict(practice.opening_hours or {}),
    )


def provider_configured(provider: str) -> bool:
    """True if credentials for the realtime provider are present in the environment/settings."""
    if provider == VoiceProvider.OPENAI:
        # The openai SDK reads OPENAI_API_KEY itself; we only check it is there.
        return bool(os.environ.get("OPENAI_API_KEY")) and bool(settings.OPENAI_REALTIME_MODEL)
    if provider == VoiceProvider.AZURE_OPENAI:
        return bool(
            settings.AZURE_OPENAI_ENDPOINT
            and (settings.AZURE_OPENAI_API_KEY or os.environ.get("AZURE_OPENAI_API_KEY"))
            and settings.AZURE_OPENAI_REALTIME_DEPLOYMENT
        )
    return False


def provider_allowed_for_phi(provider: str) -> bool:
    """True if a live call (raw PHI) may go to the provider: a BAA, or strict mode off."""
    try:
        return processor_allowed_for_phi(provider)
    except UnknownProcessorError:
        return False


def voice_agent_availability(config: VoiceConfig) -> Availability:
    """Whether this practice's call may be answered by the receptionist right now."""
    if not config.agent_enabled:
        return Availability(False, "agent_disabled")
    if not settings.TWILIO_AUTH_TOKEN or not settings.PUBLIC_BASE_URL:
        return Availability(False, "twilio_not_configured")
    if not provider_configured(config.provider):
        return Availability(False, "provider_not_configured")
    if not provider_allowed_for_phi(config.provider):
        return Availability(False, "provider_without_baa")
    return Availability(True)


def call_get(*, call_id: uuid.UUID | str) -> Call:
    """A call by id (the bridge's own call; the id comes from a redeemed stream token)."""
    return Call.objects.select_related("practice").get(pk=call_id)


def call_list(*, practice_ids: Iterable[uuid.UUID | str] | None) -> QuerySet[Call]:
    """Calls of the practices in scope (None: every practice, for superusers), newest first."""
    qs = Call.objects.select_related("practice")
    return qs if practice_ids is None else qs.filter(practice_id__in=list(practice_ids))


def transcript_for_call(*, call_id: uuid.UUID | str, practice_id: uuid.UUID | str) -> QuerySet:
    """The transcript turns of one call of one practice, in order."""
    return TranscriptTurn.objects.filter(call_id=call_id, practice_id=practice_id).order_by("seq")


def callback_request_list(
    *, practice_ids: Iterable[uuid.UUID | str] | None
) -> QuerySet[CallbackRequest]:
    """Callback requests of the practices in scope, open first, newest first."""
    qs = CallbackRequest.objects.select_related("practice", "call")
    return qs if practice_ids is None else qs.filter(practice_id__in=list(practice_ids))
