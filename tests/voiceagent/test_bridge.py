"""The call bridge against the fake realtime server, with Twilio and the records side as doubles."""

import asyncio
import json
import logging
from dataclasses import dataclass

import pytest

from tests.fakes.realtime_server import FakeRealtimeServer
from voiceagent.bridge import APOLOGY, MARK_EVERY_MS, BridgeLimits, CallBridge
from voiceagent.realtime import SessionConfig, provider_for

SECRET_WORDS = "Jane Secretpatient born March third"


@dataclass
class Result:
    output: dict
    action: str | None = None


class RecordingServices:
    """The records side, in memory."""

    def __init__(self, transfer_ok: bool = True) -> None:
        self.calls: list[tuple] = []
        self.transfer_ok = transfer_ok
        self.tool_results: dict[str, Result] = {}

    async def connected(self, *, provider):
        self.calls.append(("connected", provider))

    async def transcript(self, *, role, text):
        self.calls.append(("transcript", role, text))

    async def run_tool(self, *, name, arguments):
        self.calls.append(("tool", name, arguments))
        return self.tool_results.get(name, Result({"ok": True}))

    async def transfer(self, *, reason, say=None):
        self.calls.append(("transfer", reason, say))
        return self.transfer_ok

    async def finish(self, *, outcome):
        self.calls.append(("finish", outcome))

    def kinds(self):
        return [c[0] for c in self.calls]


class TwilioSide:
    """What the bridge sent to Twilio; marks are echoed by the test."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.closed = False

    async def send(self, text):
        self.sent.append(json.loads(text))

    async def close(self):
        self.closed = True

    def of(self, event):
        return [m for m in self.sent if m["event"] == event]


async def _bridge(server, services, *, limits=None, **kwargs):
    twilio = TwilioSide()

    async def open_session():
        provider = provider_for("openai", api_key="k", websocket_base_url=server.url)
        return await provider.open(SessionConfig(model="gpt-realtime", instructions="x")), "openai"

    bridge = CallBridge(
        call_sid="CA1",
        stream_sid="MZ1",
        send_twilio=twilio.send,
        close_twilio=twilio.close,
        open_session=open_session,
        services=services,
        limits=limits or BridgeLimits(),
        **kwargs,
    )
    await bridge.start()
    return bridge, twilio


async def _until(predicate, timeout=5.0):  # noqa: ASYNC109 -- polling helper
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def test_audio_passes_through_both_ways_frame_by_frame():
    async def script(conn):
        await conn.wait_for("response.create")
        await conn.wait_audio(3)
        await conn.say("Good morning", audio_ms=60, chunk_ms=20)

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        bridge, twilio = await _bridge(server, services)
        for _ in range(3):
            await bridge.on_media("/////w==")
        await _until(lambda: len(twilio.of("media")) == 3)
        assert {m["streamSid"] for m in twilio.sent} == {"MZ1"}
        assert all(len(m["media"]["payload"]) == 216 for m in twilio.of("media"))  # 160 bytes each
        await _until(lambda: ("transcript", "agent", "Good morning") in services.calls)
        await bridge.close()
        assert server.invalid_events == []
        assert services.calls[0] == ("connected", "openai")
        assert services.calls[-1] == ("finish", "abandoned")


async def test_barge_in_clears_twilio_and_truncates_at_audio_heard():
    item = {}

    async def script(conn):
        await conn.wait_for("response.create")
        item["id"] = await conn.say("A long answer", audio_ms=2000, chunk_ms=100, done=False)
        await conn.wait_for("conversation.item.create")  # test's signal: caller interrupts now
        await conn.speech_started()
        await conn.wait_for("conversation.item.truncate")

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        bridge, twilio = await _bridge(server, RecordingServices())
        await _until(lambda: len(twilio.of("mark")) >= 2000 // MARK_EVERY_MS)
        # Twilio played up to the second mark, then 50 ms more pass before the caller speaks.
        heard = 2 * MARK_EVERY_MS
        await bridge.on_mark(twilio.of("mark")[1]["mark"]["name"])
        await asyncio.sleep(0.05)
        await bridge._realtime_send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "x"}],
                },
            }
        )
        await _until(lambda: len(server.truncations) == 1)
        truncate = server.truncations[0]
        assert truncate["item_id"] == item["id"]
        assert heard + 40 <= truncate["audio_end_ms"] <= heard + 90
        assert twilio.sent[-1]["event"] == "clear"
        await bridge.close()
        assert server.invalid_events == []


async def test_tool_call_result_goes_back_and_one_response_follows():
    outputs = {}

    async def script(conn):
        outputs["info"] = await conn.call_function("practice_info", {})
        outputs["next"] = await conn.wait_for("response.create")

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        services.tool_results["practice_info"] = Result({"ok": True, "hours": "9-5"})
        bridge, _ = await _bridge(server, services, greet=False)
        await _until(lambda: "next" in outputs)
        assert outputs["info"] == {"ok": True, "hours": "9-5"}
        assert ("tool", "practice_info", "{}") in services.calls
        await bridge.close()
        assert server.invalid_events == []


async def test_transfer_waits_for_handoff_mark_then_redirects():
    async def script(conn):
        await conn.call_function("transfer_to_staff", {"reason": "verification_failed"})
        await conn.wait_for("response.create")
        await conn.say("Please hold while I connect you.", audio_ms=200)

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        services.tool_results["transfer_to_staff"] = Result({"ok": True}, action="transfer")
        bridge, twilio = await _bridge(server, services, greet=False)
        await _until(lambda: any(m["mark"]["name"].startswith("action") for m in twilio.of("mark")))
        assert "transfer" not in services.kinds()  # not before the caller heard the line
        action_mark = next(m for m in twilio.of("mark") if m["mark"]["name"].startswith("action"))
        await bridge.on_mark(action_mark["mark"]["name"])
        await _until(lambda: "transfer" in services.kinds())
        assert ("transfer", "verification_failed", None) in services.calls
        await bridge.close()
        assert bridge.outcome == "transferred"


async def test_failed_transfer_lets_the_agent_take_a_message():
    async def script(conn):
        await conn.wait_for("response.create", lambda e: "take_message" in json.dumps(e))

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices(transfer_ok=False)
        bridge, _ = await _bridge(server, services, greet=False)
        await bridge.on_dtmf("0")
        await _until(
            lambda: any("take_message" in json.dumps(e) for e in server.connections[0].received)
        )
        assert ("transfer", "caller_request", None) in services.calls
        assert bridge.state == "live"
        await bridge.close()


async def test_realtime_drop_mid_call_apologises_and_transfers():
    async def script(conn):
        await conn.wait_for("response.create")
        await conn.say("Hello", audio_ms=100)
        await conn.drop()

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        bridge, twilio = await _bridge(server, services)
        await _until(lambda: "transfer" in services.kinds())
        assert ("transfer", "other", APOLOGY) in services.calls
        assert twilio.of("clear")
        await bridge.close()
        assert bridge.outcome == "transferred"


async def test_fatal_error_event_fails_over_to_staff():
    async def script(conn):
        await conn.error(code="server_error")

    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        bridge, _ = await _bridge(server, services, greet=False)
        await _until(lambda: "transfer" in services.kinds())
        await bridge.close()


async def test_unreachable_provider_at_start_transfers():
    services = RecordingServices()
    twilio = TwilioSide()

    async def open_session():
        from voiceagent.realtime import RealtimeError

        raise RealtimeError("refused: provider_without_baa")

    bridge = CallBridge(
        call_sid="CA1",
        stream_sid="MZ1",
        send_twilio=twilio.send,
        close_twilio=twilio.close,
        open_session=open_session,
        services=services,
    )
    await bridge.start()
    await _until(lambda: "transfer" in services.kinds())
    await bridge.close()
    assert services.calls[-1] == ("finish", "transferred")


async def test_idle_caller_is_prompted_then_hung_up():
    async with FakeRealtimeServer() as server:
        services = RecordingServices()
        bridge, twilio = await _bridge(
            server, services, limits=BridgeLimits(idle_seconds=0.1, tick_seconds=0.05), greet=False
        )
        await _until(lambda: twilio.closed, timeout=3)
        prompts = [e for e in server.connections[0].received if e["type"] == "response.create"]
        assert len(prompts) == 1
        await bridge.close()
        assert bridge.outcome == "abandoned"


async def test_max_call_length_transfers():
    async with FakeRealtimeServer() as server:
        services = RecordingServices()
        bridge, _ = await _bridge(
            server,
            services,
            limits=BridgeLimits(max_call_seconds=0.1, tick_seconds=0.05),
            greet=False,
        )
        await _until(lambda: "transfer" in services.kinds(), timeout=3)
        await bridge.close()


async def test_close_cancels_every_task_and_closes_the_realtime_socket():
    async with FakeRealtimeServer() as server:
        bridge, _ = await _bridge(server, RecordingServices())
        tasks = set(bridge._tasks)
        assert tasks
        await bridge.close()
        assert all(t.done() for t in tasks)
        await _until(lambda: server.open_connections == 0, timeout=1)


async def test_transcripts_are_stored_but_never_logged(caplog):
    async def script(conn):
        await conn.caller_said(SECRET_WORDS)
        await conn.say(f"Thanks {SECRET_WORDS}", audio_ms=20)

    caplog.set_level(logging.DEBUG)
    async with FakeRealtimeServer() as server:
        server.push_script(script)
        services = RecordingServices()
        bridge, _ = await _bridge(server, services, greet=False)
        await _until(lambda: len([c for c in services.calls if c[0] == "transcript"]) == 2)
        await bridge.close()
    assert ("transcript", "caller", SECRET_WORDS) in services.calls
    assert "Secretpatient" not in caplog.text


@pytest.mark.parametrize("digit", ["1", "#"])
async def test_other_dtmf_digits_do_not_transfer(digit):
    async with FakeRealtimeServer() as server:
        services = RecordingServices()
        bridge, _ = await _bridge(server, services, greet=False)
        await bridge.on_dtmf(digit)
        await asyncio.sleep(0.05)
        assert "transfer" not in services.kinds()
        await bridge.close()


def test_playout_counts_earlier_items_as_heard_in_full():
    from voiceagent.bridge import _Playout

    playout = _Playout()
    for item in ("first", "second"):
        for _ in range(10):
            playout.on_sent(item, 100, 0.0)
            playout.next_mark(item)
    assert playout.on_echo("a13", 10.0)  # 300 ms into the second item
    assert playout.played_ms("first", 10.0) == 1000
    assert playout.played_ms("second", 10.02) == pytest.approx(320)
