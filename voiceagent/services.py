"""Writes of the receptionist's records: calls, transcript turns, transfers, callback requests.

Invariants:
- Each service is keyword-only, runs in one transaction and writes its audit event in it. The
  acting party is the voice agent of the call (`Actor.voice_agent(call_sid)`), except where a
  staff member acts (`callback_request_close`, actor passed explicitly).
- Audit details carry ids, counts, outcomes and reason codes, never a number, name or text.
- `call_transfer` talks to Twilio *outside* any transaction (the bridge needs its result
  before it decides what the caller hears) and records the outcome afterwards, in its own.
- Transcript turns are not audited one by one: they are the call's own record, written by the
  agent of that call, and the call's end event counts them. Reading them is audited (admin).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import Actor
from audit.context import audit_context
from audit.services import audit_record
from clinic.models import Patient, Practice
from voiceagent.errors import CallNotFoundError, TransferError
from voiceagent.models import (
    Call,
    CallbackRequest,
    CallbackStatus,
    CallOutcome,
    PracticeVoiceSettings,
    TranscriptTurn,
    TurnRole,
)
from voiceagent.selectors import VoiceConfig, practice_voice_config
from voiceagent.twilio.rest import call_redirect_to_dial

__all__ = [
    "VoiceConfig",
    "call_connected",
    "call_finish",
    "call_patient_verified",
    "call_start",
    "call_tool_record",
    "call_transfer",
    "callback_request_close",
    "callback_request_create",
    "practice_voice_config",
    "practice_voice_settings_save",
    "transcript_turn_add",
]

logger = logging.getLogger(__name__)

CALL_RESOURCE = "voiceagent.call"
CALLBACK_RESOURCE = "voiceagent.callbackrequest"
MAX_TURN_CHARS = 8000
MAX_TOOL_CALLS_KEPT = 200
HANDOFF_LINE = "Please hold while I connect you to a member of our team."
TRANSFER_REASONS = ("caller_request", "verification_failed", "clinical_question", "urgent", "other")
TRANSFER_REASON_FALLBACK = "other"


def _locked_call(call_id: uuid.UUID | str) -> Call:
    try:
        return Call.objects.select_for_update().get(pk=call_id)
    except (Call.DoesNotExist, ValueError):
        raise CallNotFoundError(f"no call with id {call_id}") from None


def _audit_call(call: Call, action: AuditAction, **detail: Any) -> None:
    audit_record(
        action=action,
        actor=Actor.voice_agent(call.call_sid),
        resource_type=CALL_RESOURCE,
        resource_id=call.pk,
        practice_id=call.practice_id,
        detail={"call_sid": call.call_sid, **detail},
    )


@transaction.atomic
def call_start(
    *, call_sid: str, practice: Practice, caller_number: str, dialled_number: str
) -> Call:
    """Record an inbound call (idempotent on CallSid: a retried webhook returns the same call)."""
    if not call_sid:
        raise ValueError("call_start needs Twilio's CallSid")
    existing = Call.objects.filter(call_sid=call_sid).first()
    if existing is not None:
        if existing.practice_id != practice.pk:
            raise ValueError(f"call {call_sid} is already recorded for another practice")
        return existing
    call = Call(
        practice=practice,
        call_sid=call_sid,
        caller_number=caller_number or None,
        dialled_number=dialled_number,
    )
    call.full_clean()
    call.save()
    _audit_call(call, AuditAction.CALL_START, has_caller_number=bool(caller_number))
    return call


@transaction.atomic
def call_connected(*, call_id: uuid.UUID | str, provider: str) -> Call:
    """Mark the media stream connected to a realtime provider."""
    call = _locked_call(call_id)
    call.connected_at = call.connected_at or timezone.now()
    call.provider = provider
    call.save(update_fields=["connected_at", "provider"])
    # Not an event of its own: the provider is part of the call's end event.
    return call


@transaction.atomic
def transcript_turn_add(*, call_id: uuid.UUID | str, role: str, text: str) -> TranscriptTurn:
    """Append one transcript turn (text encrypted) to a call."""
    if role not in TurnRole.values:
        raise ValueError(f"role must be one of {', '.join(TurnRole.values)}, not {role!r}")
    call = _locked_call(call_id)  # the row lock orders concurrent appends: seq stays gap-free
    last = call.turns.aggregate(last=Max("seq"))["last"]
    turn = TranscriptTurn(
        call=call,
        practice_id=call.practice_id,
        seq=(last or 0) + 1,
        role=role,
        text=(text or "")[:MAX_TURN_CHARS],
    )
    turn.save()
    return turn


@transaction.atomic
def call_patient_verified(*, call_id: uuid.UUID | str, patient_id: uuid.UUID) -> Call:
    """Record the patient the caller verified as (the tool audits the verification itself)."""
    call = _locked_call(call_id)
    if not Patient.objects.filter(pk=patient_id, practice_id=call.practice_id).exists():
        raise ValueError("the verified patient must belong to the call's practice")
    call.verified_patient_id = patient_id
    call.save(update_fields=["verified_patient"])
    return call


@transaction.atomic
def call_tool_record(*, call_id: uuid.UUID | str, tool: str, outcome: str) -> None:
    """Add a tool name and outcome to the call's summary (no arguments, no results)."""
    call = _locked_call(call_id)
    if len(call.tool_calls) < MAX_TOOL_CALLS_KEPT:
        call.tool_calls = [*call.tool_calls, {"tool": tool, "outcome": outcome}]
        call.save(update_fields=["tool_calls"])


@transaction.atomic
def call_finish(*, call_id: uuid.UUID | str, outcome: str) -> Call:
    """Close the call with its outcome; a second finish keeps the first end time and outcome."""
    if outcome not in CallOutcome.values or outcome == CallOutcome.IN_PROGRESS:
        raise ValueError(f"{outcome!r} is not a final call outcome")
    call = _locked_call(call_id)
    if call.ended_at is not None:
        return call
    call.ended_at = timezone.now()
    # A transfer or a message recorded during the call is the more telling outcome (a stream
    # that ends with an error after a successful transfer did not fail the caller).
    if call.outcome == CallOutcome.IN_PROGRESS:
        call.outcome = outcome
    call.save(update_fields=["ended_at", "outcome"])
    _audit_call(
        call,
        AuditAction.CALL_END,
        outcome=call.outcome,
        provider=call.provider,
        duration_seconds=call.duration_seconds,
        turns=call.turns.count(),
        tool_calls=len(call.tool_calls),
        verified=call.verified_patient_id is not None,
    )
    return call


def call_transfer(*, call_id: uuid.UUID | str, reason: str, say: str | None = None) -> bool:
    """Redirect the live call to the practice's main line via Twilio; True if Twilio accepted."""
    reason = reason if reason in TRANSFER_REASONS else TRANSFER_REASON_FALLBACK
    try:
        call = Call.objects.select_related("practice").get(pk=call_id)
    except (Call.DoesNotExist, ValueError):
        raise CallNotFoundError(f"no call with id {call_id}") from None
    # Outside any transaction: a slow Twilio must not hold a row lock for seconds.
    try:
        call_redirect_to_dial(call_sid=call.call_sid, to_number=call.practice.main_phone, say=say)
    except TransferError:
        ok = False
    else:
        ok = True
    _call_transfer_record(call_id=call.pk, reason=reason, ok=ok)
    return ok


@transaction.atomic
def _call_transfer_record(*, call_id: uuid.UUID, reason: str, ok: bool) -> None:
    call = _locked_call(call_id)
    if ok:
        call.transferred = True
        call.outcome = CallOutcome.TRANSFERRED
        call.save(update_fields=["transferred", "outcome"])
    _audit_call(call, AuditAction.CALL_TRANSFER, reason=reason, ok=ok)


@transaction.atomic
def callback_request_create(
    *,
    call_id: uuid.UUID | str | None,
    caller_name: str,
    callback_number: str,
    message: str,
    patient_id: uuid.UUID | None = None,
    practice_id: uuid.UUID | str | None = None,
) -> CallbackRequest:
    """Record a message for staff to call back (taken on a call, or for a practice directly)."""
    call = _locked_call(call_id) if call_id is not None else None
    if call is None and practice_id is None:
        raise ValueError("a callback request needs a call or a practice")
    practice_id = call.practice_id if call is not None else practice_id
    if not (caller_name or "").strip() or not (message or "").strip():
        raise ValueError("a callback request needs the caller's name and a message")
    request = CallbackRequest(
        practice_id=practice_id,
        call=call,
        patient_id=patient_id,
        caller_name=caller_name.strip(),
        callback_number=(callback_number or "").strip() or None,
        message=message.strip(),
    )
    request.full_clean(exclude=["practice", "call", "patient", "done_by"])
    request.save()
    if call is not None and call.outcome == CallOutcome.IN_PROGRESS:
        call.outcome = CallOutcome.MESSAGE_TAKEN
        call.save(update_fields=["outcome"])
    audit_record(
        action=AuditAction.CALL_MESSAGE_TAKEN,
        actor=Actor.voice_agent(call.call_sid) if call is not None else None,
        resource_type=CALLBACK_RESOURCE,
        resource_id=request.pk,
        practice_id=practice_id,
        detail={
            "call_id": str(call.pk) if call else None,
            "patient_id": str(patient_id) if patient_id else None,
        },
    )
    return request


@transaction.atomic
def callback_request_close(*, callback_request: CallbackRequest, actor: Any) -> CallbackRequest:
    """Mark a callback request done (a staff member called back)."""
    request = CallbackRequest.objects.select_for_update().get(pk=callback_request.pk)
    if request.status == CallbackStatus.DONE:
        return request
    request.status = CallbackStatus.DONE
    request.done_at = timezone.now()
    request.done_by = actor if getattr(actor, "is_authenticated", False) else None
    request.save(update_fields=["status", "done_at", "done_by"])
    audit_record(
        action=AuditAction.RECORD_UPDATE,
        actor=actor,
        resource_type=CALLBACK_RESOURCE,
        resource_id=request.pk,
        practice_id=request.practice_id,
        detail={"fields": ["status", "done_at", "done_by"], "status": CallbackStatus.DONE},
    )
    return request


@transaction.atomic
def practice_voice_settings_save(
    *, actor: Any, voice_settings: PracticeVoiceSettings
) -> PracticeVoiceSettings:
    """Validate and save a practice's voice settings (the audit registry records the change)."""
    voice_settings.full_clean()
    with audit_context(actor=actor):
        voice_settings.save()
    return voice_settings
