"""The receptionist's tools: identity gating, attempt limits, patient binding and auditing."""

import datetime as dt
import json

import pytest
from channels.db import database_sync_to_async
from django.db import connections
from django.utils import timezone

from audit.actions import AuditAction
from audit.models import AuditEvent
from clinic import services as clinic_services
from clinic.models import Appointment, AppointmentStatus
from tests.voiceagent.conftest import CALLER_NUMBER, make_practice
from voiceagent.models import Call, CallbackRequest
from voiceagent.tools import (
    ALREADY_VERIFIED,
    BAD_JSON,
    NOT_VERIFIED,
    TOOL_DEFINITIONS,
    UNKNOWN_TOOL,
    VERIFY_LOCKED,
    CallState,
    run_tool,
)

pytestmark = pytest.mark.django_db(transaction=True)
JANE = {"name": "Jane Doe", "date_of_birth": "1980-03-03"}


@pytest.fixture(autouse=True)
async def _close_worker_connections():
    yield
    # Tools run in asgiref's worker thread; its connection must not outlive the test database.
    await database_sync_to_async(connections.close_all)()


@pytest.fixture
def state(call) -> CallState:
    return CallState(call_sid=call.call_sid, practice_id=call.practice_id, call_id=call.pk)


async def _run(state: CallState, tool: str, /, **arguments):
    return await run_tool(state=state, name=tool, arguments=json.dumps(arguments))


def _tomorrow_at(practice, hour: int) -> dt.datetime:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(practice.timezone)
    day = timezone.localtime(timezone.now(), zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour, 0), zone)


def _book(patient, provider, hour: int) -> Appointment:
    return clinic_services.appointment_book(
        actor=None, patient=patient, provider=provider, start=_tomorrow_at(patient.practice, hour)
    )


def test_every_tool_definition_is_a_strict_function_schema():
    for tool in TOOL_DEFINITIONS:
        assert tool["type"] == "function"
        assert tool["parameters"]["additionalProperties"] is False
        assert "patient_id" not in json.dumps(tool)


async def test_appointment_tools_are_refused_before_verification(state, patient):
    for name in ("list_appointments", "find_open_slots", "cancel_appointment"):
        arguments = {"appointment_reference": "A1"} if name == "cancel_appointment" else {}
        result = await _run(state, name, **arguments)
        assert result.output == {"ok": False, "error": NOT_VERIFIED}
        assert result.action is None


async def test_verification_success_holds_the_patient_server_side(state, patient):
    result = await _run(state, "verify_identity", **JANE)

    assert result.output == {"ok": True, "verified": True}
    assert state.verified_patient_id == patient.pk
    call = await Call.objects.aget(pk=state.call_id)
    assert call.verified_patient_id == patient.pk
    assert await AuditEvent.objects.filter(
        action=AuditAction.CALL_IDENTITY_VERIFIED, resource_id=str(patient.pk)
    ).aexists()


@pytest.mark.parametrize(
    "spoken", ["1980-03-03", "03/03/1980", "March 3, 1980", "3rd of March 1980"]
)
async def test_verification_accepts_common_date_forms(state, patient, spoken):
    result = await _run(state, "verify_identity", name="jane  DOE", date_of_birth=spoken)

    assert result.output["verified"] is True


async def test_verification_output_never_repeats_the_date_of_birth(state, patient):
    for arguments in (JANE, {"name": "Jane Doe", "date_of_birth": "1999-01-01"}):
        result = await _run(state, "verify_identity", **arguments)
        text = result.output_json()
        assert "1980" not in text
        assert "1999" not in text


async def test_three_failed_verifications_offer_transfer_and_lock_verification(state, patient):
    wrong = {"name": "Jane Doe", "date_of_birth": "1981-03-03"}

    first = await _run(state, "verify_identity", **wrong)
    second = await _run(state, "verify_identity", **wrong)
    third = await _run(state, "verify_identity", **wrong)
    # Even the right answer is refused now: the budget protects against guessing.
    fourth = await _run(state, "verify_identity", **JANE)

    assert (first.output["attempts_left"], second.output["attempts_left"]) == (2, 1)
    assert third.output["offer_transfer"] is True
    assert third.output["attempts_left"] == 0
    assert fourth.output == {"ok": False, "error": VERIFY_LOCKED}
    assert state.verified_patient_id is None
    assert state.transfer_offered
    listing = await _run(state, "list_appointments")
    assert listing.output == {"ok": False, "error": VERIFY_LOCKED}
    failed = AuditEvent.objects.filter(action=AuditAction.CALL_IDENTITY_FAILED)
    assert await failed.acount() == 3


async def test_malformed_date_counts_as_a_failed_attempt(state, patient):
    result = await _run(state, "verify_identity", name="Jane Doe", date_of_birth="03/03/80")

    assert result.output["verified"] is False
    assert state.verify_attempts == 1


async def test_model_cannot_pass_a_patient_id(state, patient):
    result = await _run(state, "verify_identity", **JANE, patient_id=str(patient.pk))
    listing = await _run(state, "list_appointments", patient_id=str(patient.pk))

    assert result.output == {"ok": False, "error": "Unexpected argument(s): patient_id."}
    assert listing.output["ok"] is False
    assert state.verified_patient_id is None
    assert state.verify_attempts == 0


async def test_patient_of_another_practice_is_never_found(state, db):
    other = await _make_other_practice_patient()

    result = await _run(state, "verify_identity", **JANE)

    assert result.output["verified"] is False
    assert state.verified_patient_id is None
    assert other.practice_id != state.practice_id


async def test_second_identity_on_the_same_call_is_refused(state, patient):
    await _run(state, "verify_identity", **JANE)

    result = await _run(state, "verify_identity", name="John Roe", date_of_birth="1970-01-01")

    assert result.output == {"ok": False, "error": ALREADY_VERIFIED}
    assert state.verified_patient_id == patient.pk


async def test_list_appointments_shows_only_the_verified_patients_appointments(
    state, patient, provider
):
    from asgiref.sync import sync_to_async

    other_patient = await sync_to_async(clinic_services.patient_create)(
        actor=None,
        practice=patient.practice,
        first_name="John",
        last_name="Roe",
        date_of_birth=dt.date(1970, 1, 1),
    )
    await sync_to_async(_book)(patient, provider, 9)
    await sync_to_async(_book)(other_patient, provider, 10)
    await _run(state, "verify_identity", **JANE)

    result = await _run(state, "list_appointments")

    [appointment] = result.output["appointments"]
    assert appointment["reference"] == "A1"
    assert appointment["time"] == "09:00"
    assert appointment["provider"] == "Dr. Ada Grey"
    assert set(appointment) == {"reference", "date", "time", "provider", "status"}


async def test_book_find_cancel_and_reschedule_act_on_the_verified_patient(
    state, patient, provider
):
    await _run(state, "verify_identity", **JANE)
    slots = await _run(state, "find_open_slots")
    assert slots.output["slots"], slots.output
    first, second = slots.output["slots"][0], slots.output["slots"][1]

    booked = await _run(state, "book_appointment", slot_reference=first["reference"])
    assert booked.output["booked"] is True
    appointment = await Appointment.objects.aget()
    assert appointment.patient_id == patient.pk

    moved = await _run(
        state,
        "reschedule_appointment",
        appointment_reference=booked.output["reference"],
        slot_reference=second["reference"],
    )
    assert moved.output["rescheduled"] is True
    assert moved.output["time"] == second["time"]

    cancelled = await _run(
        state, "cancel_appointment", appointment_reference=booked.output["reference"]
    )
    assert cancelled.output["cancelled"] is True
    await appointment.arefresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


async def test_made_up_references_are_refused(state, patient, provider):
    await _run(state, "verify_identity", **JANE)

    booking = await _run(state, "book_appointment", slot_reference="S9")
    cancelling = await _run(state, "cancel_appointment", appointment_reference="A1")

    assert booking.output["ok"] is False
    assert "find_open_slots" in booking.output["error"]
    assert cancelling.output["ok"] is False
    assert not await Appointment.objects.aexists()


async def test_a_slot_taken_meanwhile_is_reported_not_double_booked(state, patient, provider):
    from asgiref.sync import sync_to_async

    await _run(state, "verify_identity", **JANE)
    slots = await _run(state, "find_open_slots")
    first = slots.output["slots"][0]
    rival = await sync_to_async(clinic_services.patient_create)(
        actor=None,
        practice=patient.practice,
        first_name="John",
        last_name="Roe",
        date_of_birth=dt.date(1970, 1, 1),
    )
    slot = state.slot_refs[first["reference"]]
    await sync_to_async(clinic_services.appointment_book)(
        actor=None, patient=rival, provider=provider, start=slot["start"], end=slot["end"]
    )

    result = await _run(state, "book_appointment", slot_reference=first["reference"])

    assert result.output["ok"] is False
    assert await Appointment.objects.filter(patient=patient).acount() == 0


async def test_every_tool_call_is_audited_with_the_voice_agent_as_actor(state, patient):
    await _run(state, "practice_info")
    await _run(state, "list_appointments")
    await _run(state, "verify_identity", **JANE)
    await _run(state, "list_appointments")

    events = [
        event
        async for event in AuditEvent.objects.filter(action=AuditAction.CALL_TOOL).order_by("ts")
    ]
    assert [event.detail["tool"] for event in events] == [
        "practice_info",
        "list_appointments",
        "verify_identity",
        "list_appointments",
    ]
    assert {(event.actor_type, event.actor_id) for event in events} == {
        ("voice_agent", state.call_sid)
    }
    # After verification the patient is the resource.
    assert (events[-1].resource_type, events[-1].resource_id) == ("clinic.patient", str(patient.pk))
    assert events[1].detail["outcome"] == "refused"


async def test_audit_details_hold_no_caller_values(state, patient):
    await _run(state, "verify_identity", **JANE)
    await _run(
        state,
        "take_message",
        caller_name="Jane Doe",
        callback_number=CALLER_NUMBER,
        message="Please call me about my prescription",
    )

    async for event in AuditEvent.objects.all():
        text = json.dumps(event.detail)
        for value in ("Jane", "Doe", "1980", CALLER_NUMBER, "prescription"):
            assert value not in text


async def test_bad_json_and_unknown_tools_answer_errors(state):
    bad = await run_tool(state=state, name="practice_info", arguments="{not json")
    not_object = await run_tool(state=state, name="practice_info", arguments="[1, 2]")
    unknown = await run_tool(state=state, name="drop_tables", arguments="{}")
    wrong_type = await run_tool(
        state=state, name="verify_identity", arguments='{"name": 1, "date_of_birth": "x"}'
    )

    assert bad.output == {"ok": False, "error": BAD_JSON}
    assert not_object.output == {"ok": False, "error": BAD_JSON}
    assert unknown.output == {"ok": False, "error": UNKNOWN_TOOL}
    assert wrong_type.output["ok"] is False
    assert state.verify_attempts == 0


async def test_practice_info_gives_hours_and_address(state):
    result = await _run(state, "practice_info")

    assert result.output["name"] == "Maple Street Clinic"
    assert result.output["address"].startswith("1 Main Street")
    assert "mon" in result.output["opening_hours"]


async def test_take_message_creates_a_callback_request_without_verification(state):
    result = await _run(
        state, "take_message", caller_name="Sam Caller", message="Please call me back"
    )

    assert result.output == {"ok": True, "message_taken": True}
    request = await CallbackRequest.objects.aget()
    assert request.caller_name == "Sam Caller"
    assert request.call_id == state.call_id
    assert request.patient_id is None


async def test_transfer_and_end_call_return_actions_for_the_bridge(state):
    transfer = await _run(state, "transfer_to_staff", reason="caller_request")
    bad_reason = await _run(state, "transfer_to_staff", reason="my knee hurts")
    end = await _run(state, "end_call")

    assert transfer.action == "transfer"
    assert bad_reason.action is None
    assert bad_reason.output["ok"] is False
    assert end.action == "end_call"


async def test_tool_names_and_outcomes_are_summarised_on_the_call(state, patient):
    await _run(state, "verify_identity", **JANE)
    await _run(state, "end_call")

    call = await Call.objects.aget(pk=state.call_id)
    assert call.tool_calls == [
        {"tool": "verify_identity", "outcome": "verified"},
        {"tool": "end_call", "outcome": "ok"},
    ]


async def _make_other_practice_patient():
    from asgiref.sync import sync_to_async

    def make():
        other = make_practice(
            name="Oak Avenue Clinic", slug="oak", number="+12015550200", main_phone="+12015550201"
        )
        return clinic_services.patient_create(
            actor=None,
            practice=other,
            first_name="Jane",
            last_name="Doe",
            date_of_birth=dt.date(1980, 3, 3),
        )

    return await sync_to_async(make)()


async def test_a_failing_tool_answers_an_error_instead_of_raising(state, monkeypatch):
    from voiceagent import tools

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tools.services, "practice_voice_config", broken)

    result = await _run(state, "practice_info")

    assert result.output == {"ok": False, "error": tools.TOOL_FAILED}


async def test_run_tool_never_raises_even_when_auditing_fails(state, monkeypatch):
    from voiceagent import tools

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(tools, "audit_record", broken)

    result = await _run(state, "list_appointments")

    assert result.output["ok"] is False
