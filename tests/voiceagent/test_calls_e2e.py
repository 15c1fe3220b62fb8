"""Whole calls through a real Daphne process, the fake realtime server and fake Twilio.

One Daphne subprocess serves every test in this module (on a temporary SQLite file both sides
can see); each test scripts the model's side of its call and plays Twilio's.
"""

import asyncio
import json

import pytest
import pytest_asyncio
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.fakes.stack import MAIN_LINE, PATIENT, VoiceStack, new_call_sid

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]

SECRET_NAME = "Doe"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack():
    # This practice records its calls, so every scripted call also exercises the recording.
    async with VoiceStack(record_calls=True) as running:
        yield running


async def _until(predicate, timeout=10.0):  # noqa: ASYNC109 -- polling helper
    for _ in range(int(timeout / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


async def _finished(stack, call_sid, timeout=10.0):  # noqa: ASYNC109 -- polling helper
    for _ in range(int(timeout / 0.25)):
        report = await stack.report(call_sid)
        if report["ended"]:
            return report
        await asyncio.sleep(0.25)
    raise AssertionError(f"call not finished: {report}")


async def test_verify_list_reschedule_call(stack):
    seen = {}

    async def script(conn):
        await conn.wait_for("response.create")
        await conn.say("Maple Street Clinic, how can I help?", audio_ms=300)
        await conn.caller_said(f"Hi, this is Jane {SECRET_NAME}, I need to move my appointment.")
        seen["verify"] = await conn.call_function("verify_identity", PATIENT)
        await conn.wait_for("response.create")
        seen["list"] = await conn.call_function("list_appointments", {})
        await conn.wait_for("response.create")
        seen["slots"] = await conn.call_function("find_open_slots", {})
        await conn.wait_for("response.create")
        slot = seen["slots"]["slots"][0]["reference"]
        appointment = seen["list"]["appointments"][0]["reference"]
        seen["reschedule"] = await conn.call_function(
            "reschedule_appointment", {"appointment_reference": appointment, "slot_reference": slot}
        )
        await conn.wait_for("response.create")
        await conn.say("Done. Anything else?", audio_ms=200)
        await conn.call_function("end_call", {})
        await conn.wait_for("response.create")
        await conn.say("Goodbye!", audio_ms=200)

    stack.realtime.push_script(script)
    call = await stack.call()
    call.stream_audio()
    assert await call.wait_closed(timeout=20) == 1000  # end_call hangs up after the goodbye
    await call.close()

    assert seen["verify"]["ok"] is True
    assert seen["list"]["appointments"]
    assert "patient_id" not in json.dumps(seen)
    assert seen["reschedule"]["ok"] is True
    report = await _finished(stack, call.call_sid)
    assert report["outcome"] == "completed"
    assert report["verified"] is True
    assert stack.seeded["appointment_start"] not in report["appointments"]
    assert {
        "role": "caller",
        "text": f"Hi, this is Jane {SECRET_NAME}, I need to move my appointment.",
    } in report["turns"]
    assert [t["tool"] for t in report["tool_calls"]][:4] == [
        "verify_identity",
        "list_appointments",
        "find_open_slots",
        "reschedule_appointment",
    ]
    assert len(report["audit"]) >= 5
    assert SECRET_NAME not in stack.log()
    assert PATIENT["date_of_birth"] not in stack.log()
    assert stack.realtime.invalid_events == []
    # The practice records calls: both tracks, mu-law (WAV format 7) at 8 kHz, sealed at rest.
    recording = report["recording"]
    assert recording is not None
    assert (recording["riff"], recording["format"], recording["channels"], recording["rate"]) == (
        True,
        7,
        2,
        8000,
    )
    assert recording["bytes"] > 44 + 8 * 200  # header plus at least the greeting's audio


async def test_three_failed_verifications_transfer_to_staff(stack):
    outputs = []

    async def script(conn):
        for _ in range(3):
            outputs.append(
                await conn.call_function(
                    "verify_identity", {"name": "Jane Doe", "date_of_birth": "1999-01-01"}
                )
            )
            await conn.wait_for("response.create")
        outputs.append(await conn.call_function("verify_identity", PATIENT))
        await conn.wait_for("response.create")
        await conn.call_function("transfer_to_staff", {"reason": "verification_failed"})
        await conn.wait_for("response.create")
        await conn.say("Please hold while I connect you.", audio_ms=300)

    requests_before = len(stack.rest.requests)
    stack.realtime.push_script(script)
    call = await stack.call()
    call.stream_audio()
    await _until(lambda: len(stack.rest.requests) > requests_before, timeout=15)
    redirect = stack.rest.requests[-1]
    assert call.call_sid in redirect["path"]
    assert MAIN_LINE in redirect["form"]["Twiml"]
    assert all(o["ok"] is False for o in outputs[:4])  # the fourth try is refused even if right
    assert call.played_ms() >= 300  # the hand-off line was heard before the redirect
    await call.hang_up()
    report = await _finished(stack, call.call_sid)
    assert report["transferred"] is True
    assert report["verified"] is False


async def test_barge_in_clears_twilio_and_truncates_at_what_was_heard(stack):
    item = {}

    async def script(conn):
        await conn.wait_for("response.create")
        item["id"] = await conn.say(
            "A long explanation of our opening hours", audio_ms=3000, chunk_ms=100, done=False
        )
        await asyncio.sleep(0.8)
        await conn.speech_started()
        item["truncate"] = await conn.wait_for("conversation.item.truncate")

    stack.realtime.push_script(script)
    call = await stack.call()
    call.stream_audio()
    await _until(lambda: "truncate" in item)
    await _until(lambda: call.clears)
    truncate = item["truncate"]
    assert truncate["item_id"] == item["id"]
    assert abs(truncate["audio_end_ms"] - call.played_at_clear_ms[0]) <= 40
    assert call.buffered_ms() == 0  # nothing more of that answer reaches the caller
    await call.hang_up()


async def test_provider_drop_mid_call_apologises_and_transfers(stack):
    async def script(conn):
        await conn.wait_for("response.create")
        await conn.say("Hello, one moment", audio_ms=200)
        await asyncio.sleep(0.2)
        await conn.drop()

    requests_before = len(stack.rest.requests)
    stack.realtime.push_script(script)
    call = await stack.call()
    call.stream_audio()
    await _until(lambda: len(stack.rest.requests) > requests_before, timeout=15)
    twiml = stack.rest.requests[-1]["form"]["Twiml"]
    assert "<Say" in twiml
    assert "Sorry" in twiml
    assert MAIN_LINE in twiml
    await call.hang_up()
    report = await _finished(stack, call.call_sid)
    assert report["transferred"] is True


async def test_forged_webhook_signature_is_refused(stack):
    status, _ = await asyncio.to_thread(
        stack.post_signed,
        "/voice/twilio/incoming/",
        {"CallSid": new_call_sid()},
        signature="forged",
    )
    assert status == 403


async def test_forged_upgrade_signature_is_refused(stack):
    with pytest.raises(InvalidStatus) as refused:
        async with connect(
            f"ws://127.0.0.1:{stack.port}/voice/twilio/stream/",
            additional_headers={"X-Twilio-Signature": "forged"},
        ):
            pass
    assert refused.value.response.status_code == 403


@pytest.mark.parametrize(
    ("send", "code"),
    [
        ("bad_token", 4403),
        ("malformed", 4400),
        ("oversized", 4413),
        ("media_before_start", 4403),
    ],
)
async def test_bad_streams_close_cleanly_without_affecting_other_calls(stack, send, code):
    async def script(conn):
        await conn.wait_for("response.create")
        await conn.say("Hello", audio_ms=2000, chunk_ms=100, pace=1.0)

    stack.realtime.push_script(script)
    good = await stack.call()
    good.stream_audio()
    await _until(lambda: good.played_ms() > 0)

    call_sid = new_call_sid()
    token = await stack.incoming(call_sid)
    bad = stack.media_call(call_sid, "not-the-token" if send == "bad_token" else token)
    await bad.connect(start=send == "bad_token")
    if send == "malformed":
        await bad.send_raw('{"event": "media", ')
    elif send == "oversized":
        await bad.send_raw(json.dumps({"event": "media", "pad": "x" * 70_000}))
    elif send == "media_before_start":
        await bad.send_media()
    assert await bad.wait_closed() == code
    await bad.close()

    heard = good.played_ms()
    await asyncio.sleep(0.3)
    assert good.played_ms() > heard  # the other call kept playing
    assert not good.closed.is_set()
    await good.hang_up()


async def test_hang_up_leaves_no_realtime_connection_open(stack):
    stack.realtime.push_script(lambda conn: asyncio.Event().wait())
    calls = [await stack.call() for _ in range(5)]
    for call in calls:
        call.stream_audio()
    await asyncio.sleep(0.3)
    for call in calls:
        await call.hang_up()
    await asyncio.sleep(1.0)
    assert stack.realtime.open_connections == 0
