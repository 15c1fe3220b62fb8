"""The receptionist's tools (realtime function calling), with identity gating enforced in code.

Invariants, each checked here and not left to the model's instructions:
- The model never names a patient. `verify_identity(name, date_of_birth)` looks the caller up
  in this call's practice through the blind index; on success the patient id is kept in the
  server-side `CallState`. Arguments are parsed strictly: an unknown argument (`patient_id`,
  say) is refused, never used.
- At most MAX_VERIFY_ATTEMPTS failed verifications; then the caller is offered a transfer and
  further attempts are refused for the rest of the call.
- Appointment tools run only after verification, only on the verified patient, through the
  clinic's selectors and services. Appointments and open slots are named to the model by short
  call-local references ("A1", "S2") that map to rows server-side, so the model cannot point a
  tool at a row it was not shown for this patient.
- Outputs hold the minimum necessary: date, time, provider name, reference, status. Never the
  date of birth, never another patient's data.
- Every tool call is audited (actor: the voice agent with the CallSid; resource: the verified
  patient when there is one). Bad JSON, unknown tools and bad arguments answer an error output;
  run_tool never raises for anything the model sends.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from channels.db import database_sync_to_async
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.actors import Actor
from audit.context import audit_context
from audit.services import audit_record
from clinic.errors import ClinicError, SlotUnavailableError
from clinic.models import Appointment, Patient, Provider
from clinic.selectors import appointment_list_for_patient, open_slots, patient_find_by_identity
from clinic.services import appointment_book, appointment_cancel, appointment_reschedule
from phi.redaction.context import add_known
from voiceagent import services
from voiceagent.dates import parse_caller_date

logger = logging.getLogger(__name__)

MAX_VERIFY_ATTEMPTS = 3
MAX_ARGUMENTS_CHARS = 4000
MAX_LISTED_APPOINTMENTS = 5
MAX_OFFERED_SLOTS = 6
DEFAULT_SLOT_SEARCH_DAYS = 7
MAX_SLOT_SEARCH_DAYS = 31
PATIENT_RESOURCE = "clinic.patient"
CALL_RESOURCE = "voiceagent.call"

TRANSFER_REASONS = ("caller_request", "verification_failed", "clinical_question", "urgent", "other")

# What the model is told when a gate closes; tests reuse these constants.
NOT_VERIFIED = "The caller's identity is not verified yet. Ask for their full name and date of birth and call verify_identity first."
VERIFY_LOCKED = "Identity could not be verified after 3 attempts. Do not try again; offer to transfer the caller to staff or take a message."
ALREADY_VERIFIED = "The caller is already verified on this call; a different person must be helped by staff (offer a transfer)."
UNKNOWN_TOOL = "Unknown tool."
BAD_JSON = "Arguments were not a valid JSON object."
NOT_FOUND = "That record was not found."
TOOL_FAILED = "That did not work on our side. Offer to take a message or transfer."
SLOT_TAKEN = "That time has just been taken. Call find_open_slots again and offer another time."

_STRING = {"type": "string"}


def _tool(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": False,
        },
    }


TOOL_DEFINITIONS: list[dict] = [
    _tool(
        "verify_identity",
        "Verify the caller as a patient of this practice. Ask for their full name and date of "
        "birth first. Pass the date as YYYY-MM-DD. Required before any appointment tool.",
        {
            "name": {**_STRING, "description": "The caller's full name, first and last."},
            "date_of_birth": {**_STRING, "description": "Date of birth as YYYY-MM-DD."},
        },
        ["name", "date_of_birth"],
    ),
    _tool(
        "list_appointments",
        "List the verified caller's upcoming appointments (date, time, provider, reference).",
        {},
        [],
    ),
    _tool(
        "find_open_slots",
        "Find open appointment slots. Dates as YYYY-MM-DD; defaults to the next 7 days.",
        {
            "date_from": {**_STRING, "description": "First day to search, YYYY-MM-DD."},
            "date_to": {**_STRING, "description": "Last day to search, YYYY-MM-DD."},
            "provider_name": {**_STRING, "description": "Only this provider (optional)."},
        },
        [],
    ),
    _tool(
        "book_appointment",
        "Book one of the slots returned by find_open_slots for the verified caller. Confirm "
        "the date and time with the caller before booking.",
        {
            "slot_reference": {**_STRING, "description": "A slot reference such as S1."},
            "reason": {**_STRING, "description": "Short reason for the visit (optional)."},
        },
        ["slot_reference"],
    ),
    _tool(
        "cancel_appointment",
        "Cancel one of the verified caller's appointments returned by list_appointments.",
        {"appointment_reference": {**_STRING, "description": "A reference such as A1."}},
        ["appointment_reference"],
    ),
    _tool(
        "reschedule_appointment",
        "Move one of the verified caller's appointments to a slot from find_open_slots.",
        {
            "appointment_reference": {**_STRING, "description": "A reference such as A1."},
            "slot_reference": {**_STRING, "description": "A slot reference such as S1."},
        },
        ["appointment_reference", "slot_reference"],
    ),
    _tool(
        "practice_info",
        "The practice's name, address, phone number and opening hours.",
        {},
        [],
    ),
    _tool(
        "take_message",
        "Leave a callback request for the practice staff.",
        {
            "caller_name": {**_STRING, "description": "Who is calling."},
            "callback_number": {**_STRING, "description": "Number to call back."},
            "message": {**_STRING, "description": "The message, in a few sentences."},
        },
        ["caller_name", "message"],
    ),
    _tool(
        "transfer_to_staff",
        "Transfer the caller to a person at the practice.",
        {"reason": {"type": "string", "enum": list(TRANSFER_REASONS)}},
        ["reason"],
    ),
    _tool("end_call", "End the call after saying goodbye.", {}, []),
]
TOOL_NAMES = frozenset(tool["name"] for tool in TOOL_DEFINITIONS)
_SCHEMAS = {tool["name"]: tool["parameters"] for tool in TOOL_DEFINITIONS}
_FIELD_LIMITS = {
    "name": 120,
    "date_of_birth": 64,
    "date_from": 64,
    "date_to": 64,
    "provider_name": 120,
    "slot_reference": 8,
    "appointment_reference": 8,
    "reason": 200,
    "caller_name": 120,
    "callback_number": 40,
    "message": 1000,
}


@dataclass
class CallState:
    """Server-side state of one call; the only place the verified patient is known."""

    call_sid: str
    practice_id: uuid.UUID
    call_id: uuid.UUID
    verified_patient_id: uuid.UUID | None = None
    verify_attempts: int = 0
    transfer_offered: bool = False
    # Call-local references shown to the model -> ids, only for the verified patient.
    appointment_refs: dict[str, uuid.UUID] = field(default_factory=dict)
    slot_refs: dict[str, dict[str, Any]] = field(default_factory=dict)
    tool_calls: list[str] = field(default_factory=list)
    # Serialises tools of one call: two parallel verify calls must not both use attempt 3.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    @property
    def verify_locked(self) -> bool:
        """True once the failed-verification budget is spent (and no one is verified)."""
        return self.verified_patient_id is None and self.verify_attempts >= MAX_VERIFY_ATTEMPTS


@dataclass(frozen=True)
class ToolResult:
    """What the bridge sends back as the function output, and what it must do next."""

    output: dict
    action: Literal["transfer", "end_call"] | None = None

    def output_json(self) -> str:
        """The output as the JSON string a function_call_output item carries."""
        return json.dumps(self.output, separators=(",", ":"))


class _ToolRefused(Exception):
    """A tool call the rules refuse; its message is what the model is told."""


def _parse_arguments(name: str, arguments: str) -> dict[str, str]:
    if not isinstance(arguments, str) or len(arguments) > MAX_ARGUMENTS_CHARS:
        raise _ToolRefused(BAD_JSON)
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        raise _ToolRefused(BAD_JSON) from None
    if not isinstance(parsed, dict):
        raise _ToolRefused(BAD_JSON)
    schema = _SCHEMAS[name]
    unexpected = sorted(set(parsed) - set(schema["properties"]))
    if unexpected:
        # Above all `patient_id`: the model never chooses the patient.
        raise _ToolRefused(f"Unexpected argument(s): {', '.join(unexpected)}.")
    missing = [key for key in schema["required"] if not parsed.get(key)]
    if missing:
        raise _ToolRefused(f"Missing argument(s): {', '.join(missing)}.")
    clean: dict[str, str] = {}
    for key, value in parsed.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise _ToolRefused(f"Argument {key} must be a string.")
        value = value.strip()
        if len(value) > _FIELD_LIMITS.get(key, 200):
            raise _ToolRefused(f"Argument {key} is too long.")
        enum = schema["properties"][key].get("enum")
        if enum and value not in enum:
            raise _ToolRefused(f"Argument {key} must be one of: {', '.join(enum)}.")
        clean[key] = value
    return clean


async def run_tool(*, state: CallState, name: str, arguments: str) -> ToolResult:
    """Run one tool call for this call's state; errors come back as outputs, never raised."""
    async with state.lock:
        state.tool_calls.append(name if name in TOOL_NAMES else "unknown")
        if name not in TOOL_NAMES:
            await _audit_failure(state, name="unknown", outcome="unknown_tool")
            return ToolResult({"ok": False, "error": UNKNOWN_TOOL})
        try:
            args = _parse_arguments(name, arguments)
            return await database_sync_to_async(_run_sync)(state, name, args)
        except ObjectDoesNotExist:
            # A row vanished or was never the caller's (e.g. a reference to another practice).
            await _audit_failure(state, name=name, outcome="not_found")
            return ToolResult({"ok": False, "error": NOT_FOUND})
        except _ToolRefused as refusal:
            await _audit_failure(state, name=name, outcome="refused")
            return ToolResult({"ok": False, "error": str(refusal)})
        except Exception as exc:
            # A tool failure must not end the call: the model is told, the caller can be helped.
            logger.exception(
                "voice.tool.error call_sid=%s tool=%s error=%s",
                state.call_sid,
                name,
                type(exc).__name__,
            )
            await _audit_failure(state, name=name, outcome="error")
            return ToolResult({"ok": False, "error": TOOL_FAILED})


async def _audit_failure(state: CallState, *, name: str, outcome: str) -> None:
    # The refusal is audited like any call; if even that fails (database gone), the caller
    # still gets an answer and the failure is logged: run_tool must never raise.
    try:
        await database_sync_to_async(_audit_tool)(state, name=name, outcome=outcome)
    except Exception as exc:
        logger.exception(
            "voice.tool.audit_failed call_sid=%s tool=%s error=%s",
            state.call_sid,
            name,
            type(exc).__name__,
        )


def _run_sync(state: CallState, name: str, args: dict[str, str]) -> ToolResult:
    handler = _HANDLERS[name]
    with audit_context(actor=Actor.voice_agent(state.call_sid), request_id=state.call_sid):
        return handler(state, args)


def _audit_tool(state: CallState, *, name: str, outcome: str, **detail: Any) -> None:
    """Audit one tool call (its own transaction when the tool wrote nothing)."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.CALL_TOOL,
            actor=Actor.voice_agent(state.call_sid),
            resource_type=PATIENT_RESOURCE if state.verified_patient_id else CALL_RESOURCE,
            resource_id=state.verified_patient_id or state.call_id,
            practice_id=state.practice_id,
            detail={"tool": name, "outcome": outcome, "call_id": str(state.call_id), **detail},
        )
        services.call_tool_record(call_id=state.call_id, tool=name, outcome=outcome)


def _require_verified(state: CallState) -> uuid.UUID:
    if state.verified_patient_id is None:
        raise _ToolRefused(VERIFY_LOCKED if state.verify_locked else NOT_VERIFIED)
    return state.verified_patient_id


# --- identity ------------------------------------------------------------------------------


def _verify_identity(state: CallState, args: dict[str, str]) -> ToolResult:
    if state.verified_patient_id is not None:
        raise _ToolRefused(ALREADY_VERIFIED)
    if state.verify_locked:
        state.transfer_offered = True
        raise _ToolRefused(VERIFY_LOCKED)
    state.verify_attempts += 1
    attempts_left = MAX_VERIFY_ATTEMPTS - state.verify_attempts
    try:
        date_of_birth = parse_caller_date(args["date_of_birth"])
    except ValueError:
        patient = None
    else:
        patient = patient_find_by_identity(
            practice_id=state.practice_id, full_name=args["name"], date_of_birth=date_of_birth
        )
    with transaction.atomic():
        if patient is None:
            audit_record(
                action=AuditAction.CALL_IDENTITY_FAILED,
                actor=Actor.voice_agent(state.call_sid),
                resource_type=CALL_RESOURCE,
                resource_id=state.call_id,
                practice_id=state.practice_id,
                detail={"call_id": str(state.call_id), "attempt": state.verify_attempts},
            )
            _audit_tool(state, name="verify_identity", outcome="not_found")
        else:
            state.verified_patient_id = patient.pk
            services.call_patient_verified(call_id=state.call_id, patient_id=patient.pk)
            audit_record(
                action=AuditAction.CALL_IDENTITY_VERIFIED,
                actor=Actor.voice_agent(state.call_sid),
                resource_type=PATIENT_RESOURCE,
                resource_id=patient.pk,
                practice_id=state.practice_id,
                detail={"call_id": str(state.call_id), "attempt": state.verify_attempts},
            )
            _audit_tool(state, name="verify_identity", outcome="verified")
    if patient is not None:
        # From here on the call's logs and redacted transcripts mask this caller's own values
        # in every spoken form (the consumer opened the call's redaction scope).
        add_known(
            name=[patient.first_name, patient.last_name],
            date_of_birth=patient.date_of_birth,
            phone=patient.phone,
            mrn=patient.mrn,
        )
        return ToolResult({"ok": True, "verified": True})
    if attempts_left <= 0:
        state.transfer_offered = True
        return ToolResult(
            {
                "ok": False,
                "verified": False,
                "attempts_left": 0,
                "offer_transfer": True,
                "error": VERIFY_LOCKED,
            }
        )
    return ToolResult(
        {
            "ok": False,
            "verified": False,
            "attempts_left": attempts_left,
            "error": "No patient matched that name and date of birth. Ask the caller to repeat them.",
        }
    )


# --- appointments --------------------------------------------------------------------------


def _practice_zone(state: CallState) -> ZoneInfo:
    config = services.practice_voice_config(practice_id=state.practice_id)
    return ZoneInfo(config.timezone or "UTC")


def _spoken_time(moment: datetime, zone: ZoneInfo) -> dict[str, str]:
    local = timezone.localtime(moment, zone)
    return {"date": local.date().isoformat(), "time": local.strftime("%H:%M")}


def _list_appointments(state: CallState, args: dict[str, str]) -> ToolResult:
    patient_id = _require_verified(state)
    zone = _practice_zone(state)
    appointments = list(
        appointment_list_for_patient(practice_id=state.practice_id, patient_id=patient_id)[
            :MAX_LISTED_APPOINTMENTS
        ]
    )
    state.appointment_refs = {}
    listed = []
    for index, appointment in enumerate(appointments, start=1):
        reference = f"A{index}"
        state.appointment_refs[reference] = appointment.pk
        listed.append(
            {
                "reference": reference,
                **_spoken_time(appointment.start, zone),
                "provider": str(appointment.provider),
                "status": appointment.get_status_display(),
            }
        )
    _audit_tool(state, name="list_appointments", outcome="ok", count=len(listed))
    return ToolResult({"ok": True, "appointments": listed})


def _search_window(args: dict[str, str], zone: ZoneInfo) -> tuple[datetime, datetime]:
    today = timezone.localtime(timezone.now(), zone).date()
    try:
        first = parse_caller_date(args["date_from"]) if args.get("date_from") else today
        last = (
            parse_caller_date(args["date_to"])
            if args.get("date_to")
            else first + timedelta(days=DEFAULT_SLOT_SEARCH_DAYS - 1)
        )
    except ValueError as exc:
        raise _ToolRefused(str(exc)) from None
    first = max(first, today)
    if last < first:
        raise _ToolRefused("date_to is before date_from.")
    last = min(last, first + timedelta(days=MAX_SLOT_SEARCH_DAYS - 1))
    start = datetime.combine(first, time.min, zone)
    end = datetime.combine(last + timedelta(days=1), time.min, zone)
    return start, end


def _find_open_slots(state: CallState, args: dict[str, str]) -> ToolResult:
    _require_verified(state)
    zone = _practice_zone(state)
    start, end = _search_window(args, zone)
    wanted = " ".join(args.get("provider_name", "").lower().split())
    slots = []
    for provider, slot_start, slot_end in open_slots(
        practice_id=state.practice_id, start=start, end=end
    ):
        if wanted and wanted not in str(provider).lower():
            continue
        slots.append((provider, slot_start, slot_end))
        if len(slots) >= MAX_OFFERED_SLOTS:
            break
    state.slot_refs = {}
    offered = []
    for index, (provider, slot_start, slot_end) in enumerate(slots, start=1):
        reference = f"S{index}"
        state.slot_refs[reference] = {
            "provider_id": provider.pk,
            "start": slot_start,
            "end": slot_end,
        }
        offered.append(
            {"reference": reference, **_spoken_time(slot_start, zone), "provider": str(provider)}
        )
    _audit_tool(state, name="find_open_slots", outcome="ok", count=len(offered))
    return ToolResult({"ok": True, "slots": offered})


def _slot(state: CallState, reference: str) -> dict[str, Any]:
    slot = state.slot_refs.get(reference.upper())
    if slot is None:
        raise _ToolRefused("Unknown slot reference; call find_open_slots and use one it returned.")
    return slot


def _verified_patient(state: CallState) -> Patient:
    patient_id = _require_verified(state)
    return Patient.objects.get(pk=patient_id, practice_id=state.practice_id)


def _patient_appointment(state: CallState, patient: Patient, reference: str) -> Appointment:
    appointment_id = state.appointment_refs.get(reference.upper())
    if appointment_id is None:
        raise _ToolRefused(
            "Unknown appointment reference; call list_appointments and use one it returned."
        )
    # Looked up through the verified patient again: a reference can only ever reach their rows.
    return (
        appointment_list_for_patient(
            practice_id=state.practice_id, patient_id=patient.pk, upcoming_only=False
        )
        .select_for_update(of=("self",))
        .get(pk=appointment_id)
    )


def _slot_provider(state: CallState, slot: dict[str, Any]) -> Provider:
    return Provider.objects.get(pk=slot["provider_id"], practice_id=state.practice_id)


def _clinic_refusal(exc: Exception) -> _ToolRefused:
    if isinstance(exc, SlotUnavailableError) or getattr(exc, "code", "") == "double_booked":
        return _ToolRefused(SLOT_TAKEN)
    if isinstance(exc, ValidationError):
        return _ToolRefused(f"The practice system refused: {' '.join(exc.messages)}")
    return _ToolRefused("The practice system refused that change; offer a transfer or a message.")


def _book_appointment(state: CallState, args: dict[str, str]) -> ToolResult:
    patient = _verified_patient(state)
    slot = _slot(state, args["slot_reference"])
    zone = _practice_zone(state)
    try:
        with transaction.atomic():
            appointment = appointment_book(
                actor=Actor.voice_agent(state.call_sid),
                patient=patient,
                provider=_slot_provider(state, slot),
                start=slot["start"],
                end=slot["end"],
                reason=args.get("reason") or None,
            )
            _audit_tool(
                state, name="book_appointment", outcome="booked", appointment_id=str(appointment.pk)
            )
    except (ValidationError, ClinicError) as exc:
        raise _clinic_refusal(exc) from None
    state.slot_refs.pop(args["slot_reference"].upper(), None)
    reference = f"A{len(state.appointment_refs) + 1}"
    state.appointment_refs[reference] = appointment.pk
    return ToolResult(
        {
            "ok": True,
            "booked": True,
            "reference": reference,
            **_spoken_time(appointment.start, zone),
            "provider": str(appointment.provider),
        }
    )


def _cancel_appointment(state: CallState, args: dict[str, str]) -> ToolResult:
    patient = _verified_patient(state)
    try:
        with transaction.atomic():
            appointment = _patient_appointment(state, patient, args["appointment_reference"])
            appointment_cancel(actor=Actor.voice_agent(state.call_sid), appointment=appointment)
            _audit_tool(
                state,
                name="cancel_appointment",
                outcome="cancelled",
                appointment_id=str(appointment.pk),
            )
    except (ValidationError, ClinicError) as exc:
        raise _clinic_refusal(exc) from None
    return ToolResult(
        {"ok": True, "cancelled": True, "reference": args["appointment_reference"].upper()}
    )


def _reschedule_appointment(state: CallState, args: dict[str, str]) -> ToolResult:
    patient = _verified_patient(state)
    slot = _slot(state, args["slot_reference"])
    zone = _practice_zone(state)
    try:
        with transaction.atomic():
            appointment = _patient_appointment(state, patient, args["appointment_reference"])
            appointment = appointment_reschedule(
                actor=Actor.voice_agent(state.call_sid),
                appointment=appointment,
                provider=_slot_provider(state, slot),
                start=slot["start"],
                end=slot["end"],
            )
            _audit_tool(
                state,
                name="reschedule_appointment",
                outcome="rescheduled",
                appointment_id=str(appointment.pk),
            )
    except (ValidationError, ClinicError) as exc:
        raise _clinic_refusal(exc) from None
    state.slot_refs.pop(args["slot_reference"].upper(), None)
    return ToolResult(
        {
            "ok": True,
            "rescheduled": True,
            "reference": args["appointment_reference"].upper(),
            **_spoken_time(appointment.start, zone),
            "provider": str(appointment.provider),
        }
    )


# --- always available ----------------------------------------------------------------------


def _practice_info(state: CallState, args: dict[str, str]) -> ToolResult:
    config = services.practice_voice_config(practice_id=state.practice_id)
    _audit_tool(state, name="practice_info", outcome="ok")
    return ToolResult(
        {
            "ok": True,
            "name": config.practice_name,
            "address": config.address,
            "phone": config.main_phone,
            "opening_hours": config.opening_hours,
        }
    )


def _take_message(state: CallState, args: dict[str, str]) -> ToolResult:
    with transaction.atomic():
        request = services.callback_request_create(
            call_id=state.call_id,
            caller_name=args["caller_name"],
            callback_number=args.get("callback_number", ""),
            message=args["message"],
            patient_id=state.verified_patient_id,
        )
        _audit_tool(state, name="take_message", outcome="ok", callback_request_id=str(request.pk))
    return ToolResult({"ok": True, "message_taken": True})


def _transfer_to_staff(state: CallState, args: dict[str, str]) -> ToolResult:
    _audit_tool(state, name="transfer_to_staff", outcome="requested", reason=args["reason"])
    return ToolResult(
        {"ok": True, "transferring": True, "say": "Tell the caller you are transferring them now."},
        action="transfer",
    )


def _end_call(state: CallState, args: dict[str, str]) -> ToolResult:
    _audit_tool(state, name="end_call", outcome="ok")
    return ToolResult({"ok": True, "ending": True}, action="end_call")


_HANDLERS = {
    "verify_identity": _verify_identity,
    "list_appointments": _list_appointments,
    "find_open_slots": _find_open_slots,
    "book_appointment": _book_appointment,
    "cancel_appointment": _cancel_appointment,
    "reschedule_appointment": _reschedule_appointment,
    "practice_info": _practice_info,
    "take_message": _take_message,
    "transfer_to_staff": _transfer_to_staff,
    "end_call": _end_call,
}
assert set(_HANDLERS) == TOOL_NAMES  # noqa: S101 -- a definition without a handler is a bug at import
