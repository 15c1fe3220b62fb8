"""A fake OpenAI Realtime server (GA protocol) on loopback, for tests, simulate_call and bench.

It speaks the server side of the realtime WebSocket protocol well enough for the bridge:
`session.updated`, response audio deltas, transcripts, function calls, `speech_started`,
truncation and errors. Every client event is validated with the openai SDK's own pydantic
types (`RealtimeClientEvent`); an event they reject, or one carrying fields they do not know,
gets an `error` event back and is counted in `invalid_events`, so a test can assert the bridge
never sends one. Behaviour per connection comes from a script (an async function taking the
`FakeRealtimeConnection`); scripts are queued with `push_script` or a default is used.

`GET /stats` answers the server's counters as JSON (open connections, invalid events, bench
latencies), so a benchmark can read them from another process.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http
import itertools
import json
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import pydantic
from openai.types.realtime.realtime_client_event import RealtimeClientEvent
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

CLIENT_EVENT = pydantic.TypeAdapter(RealtimeClientEvent)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
SILENCE = b"\xff" * 160
STAMP = struct.Struct("<IIq")  # call index, sequence number, monotonic send time (ns)

Script = Callable[["FakeRealtimeConnection"], Awaitable[None]]


def _unknown_fields(model: Any) -> list[str]:
    """Field names the SDK types did not recognise anywhere in a validated event."""
    found: list[str] = []
    if isinstance(model, pydantic.BaseModel):
        found.extend((model.model_extra or {}).keys())
        for name in type(model).model_fields:
            found.extend(_unknown_fields(getattr(model, name)))
    elif isinstance(model, list | tuple):
        for item in model:
            found.extend(_unknown_fields(item))
    return found


def validate_client_event(event: Any) -> str | None:
    """None if the SDK's client event types accept `event` exactly, else the reason."""
    if not isinstance(event, dict):
        return "not an object"
    # Fast path, equivalent to the SDK type (type, audio: str, optional event_id): the
    # benchmark sends thousands of these per second and pydantic would dominate its CPU.
    if event.get("type") == "input_audio_buffer.append" and set(event) <= {
        "type",
        "audio",
        "event_id",
    }:
        audio = event.get("audio")
        if isinstance(audio, str) and _BASE64.fullmatch(audio):
            return None
        return "input_audio_buffer.append.audio must be base64"
    try:
        model = CLIENT_EVENT.validate_python(event)
    except pydantic.ValidationError as exc:
        return f"invalid {event.get('type')!r}: {exc.error_count()} errors"
    unknown = _unknown_fields(model)
    if unknown:
        return f"unknown fields {unknown}"
    return None


def stamp_audio(call_index: int, seq: int) -> str:
    """160 bytes of mu-law (20 ms) carrying call index, sequence and send time, base64."""
    head = STAMP.pack(call_index, seq, time.monotonic_ns())
    return base64.b64encode(head + SILENCE[len(head) :]).decode()


def read_stamp(payload: str) -> tuple[int, int, int] | None:
    """(call index, sequence, send ns) from a stamped payload, or None if not stamped."""
    try:
        head = base64.b64decode(payload[:24])
    except ValueError:
        return None
    if len(head) < STAMP.size:
        return None
    return STAMP.unpack(head[: STAMP.size])


class FakeRealtimeConnection:
    """Server side of one realtime session, driven by a script."""

    def __init__(self, server: FakeRealtimeServer, ws: ServerConnection) -> None:
        self.server = server
        self.ws = ws
        self.received: list[dict] = []
        self.appended_frames = 0
        self.session: dict | None = None
        self._cursor = 0
        self._arrived = asyncio.Event()
        self._ids = itertools.count(1)
        self.call_index: int | None = None
        self.last_seq: int = -1
        self.item_audio_ms: dict[str, float] = {}

    def next_id(self, prefix: str) -> str:
        """A fresh id like the server's (evt_…, item_…, resp_…)."""
        return f"{prefix}_{next(self._ids):06d}"

    async def send(self, event: dict) -> None:
        """Send one server event."""
        event.setdefault("event_id", self.next_id("event"))
        await self.ws.send(json.dumps(event))

    async def wait_for(
        self,
        event_type: str,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10,  # noqa: ASYNC109 -- test helper with a deadline
    ) -> dict:
        """The next client event of this type (matching predicate) after the last one waited for.

        Events are consumed in order, so an event that arrived before the call is still found.
        """
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index in range(self._cursor, len(self.received)):
                event = self.received[index]
                if event.get("type") == event_type and (predicate is None or predicate(event)):
                    self._cursor = index + 1
                    return event
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError(f"no {event_type} from the client")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)

    def _deliver(self, event: dict) -> None:
        self._arrived.set()

    async def wait_audio(self, frames: int, timeout: float = 10) -> None:  # noqa: ASYNC109 -- test helper with a deadline
        """Wait until the caller has sent at least `frames` audio appends."""
        deadline = time.monotonic() + timeout
        while self.appended_frames < frames:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {self.appended_frames} audio frames arrived")
            await asyncio.sleep(0.005)

    async def say(
        self,
        text: str,
        *,
        audio_ms: int = 400,
        chunk_ms: int = 100,
        pace: float = 0.0,
        response_id: str | None = None,
        done: bool = True,
    ) -> str:
        """Speak: audio deltas (`audio_ms` of mu-law in `chunk_ms` chunks), transcript, done."""
        response_id = response_id or self.next_id("resp")
        item_id = self.next_id("item")
        await self.send(
            {
                "type": "response.created",
                "response": {
                    "id": response_id,
                    "object": "realtime.response",
                    "status": "in_progress",
                    "output": [],
                },
            }
        )
        await self.send(
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": {
                    "id": item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                },
            }
        )
        sent = 0
        while sent < audio_ms:
            ms = min(chunk_ms, audio_ms - sent)
            await self.send(
                {
                    "type": "response.output_audio.delta",
                    "response_id": response_id,
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": base64.b64encode(b"\x7f" * (ms * 8)).decode(),
                }
            )
            sent += ms
            self.item_audio_ms[item_id] = sent
            if pace:
                await asyncio.sleep(ms / 1000 * pace)
        await self.send(
            {
                "type": "response.output_audio_transcript.done",
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "transcript": text,
            }
        )
        if done:
            await self.response_done(response_id)
        return item_id

    async def response_done(self, response_id: str, status: str = "completed") -> None:
        """Send `response.done`."""
        await self.send(
            {
                "type": "response.done",
                "response": {
                    "id": response_id,
                    "object": "realtime.response",
                    "status": status,
                    "output": [],
                },
            }
        )

    async def caller_said(self, text: str) -> str:
        """Speech started/stopped, then the caller's transcript (as input transcription does)."""
        item_id = self.next_id("item")
        await self.speech_started(item_id=item_id)
        await self.send(
            {"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 1000, "item_id": item_id}
        )
        await self.send(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": text,
            }
        )
        return item_id

    async def speech_started(self, *, item_id: str | None = None) -> None:
        """Server VAD heard the caller start speaking."""
        self.server.speech_started_ns[str(self.call_index)] = time.monotonic_ns()
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": 0,
                "item_id": item_id or self.next_id("item"),
            }
        )

    async def call_function(
        self, name: str, arguments: dict, *, expect_output: bool = True
    ) -> dict | None:
        """Ask the client to run a tool; return its parsed function_call_output."""
        response_id = self.next_id("resp")
        item_id = self.next_id("item")
        call_id = self.next_id("call")
        await self.send(
            {
                "type": "response.function_call_arguments.done",
                "response_id": response_id,
                "item_id": item_id,
                "output_index": 0,
                "call_id": call_id,
                "name": name,
                "arguments": json.dumps(arguments),
            }
        )
        await self.response_done(response_id)
        if not expect_output:
            return None
        event = await self.wait_for(
            "conversation.item.create",
            lambda e: (
                e.get("item", {}).get("type") == "function_call_output"
                and e["item"].get("call_id") == call_id
            ),
        )
        return json.loads(event["item"]["output"])

    async def error(self, code: str = "server_error", message: str = "fake failure") -> None:
        """Send an `error` event."""
        await self.send(
            {"type": "error", "error": {"type": "server_error", "code": code, "message": message}}
        )

    async def drop(self) -> None:
        """Vanish mid-call: abort the TCP connection without a close handshake."""
        self.ws.transport.abort()

    async def run_reader(self) -> None:
        """Receive client events, validate each against the SDK types, answer protocol basics."""
        async for message in self.ws:
            try:
                event = json.loads(message)
            except ValueError:
                event = None
            problem = validate_client_event(event)
            if problem is not None:
                self.server.invalid_events.append(problem)
                await self.send(
                    {
                        "type": "error",
                        "error": {
                            "type": "invalid_request_error",
                            "code": "invalid_event",
                            "message": problem,
                        },
                    }
                )
                continue
            kind = event["type"]
            if kind == "input_audio_buffer.append":
                self.appended_frames += 1
                self.server.on_audio(self, event["audio"])
                continue
            self.received.append(event)
            if kind == "session.update":
                self.session = event["session"]
                await self.send(
                    {
                        "type": "session.updated",
                        "session": {
                            "type": "realtime",
                            "id": "sess_fake",
                            "object": "realtime.session",
                        },
                    }
                )
            elif kind == "conversation.item.truncate":
                self.server.truncations.append(event)
                self.server.truncation_by_call[str(self.call_index)] = event["audio_end_ms"]
                await self.send(
                    {
                        "type": "conversation.item.truncated",
                        "item_id": event["item_id"],
                        "content_index": 0,
                        "audio_end_ms": event["audio_end_ms"],
                    }
                )
            self._deliver(event)


async def idle_script(conn: FakeRealtimeConnection) -> None:
    """Default: answer the protocol, never speak first."""
    await asyncio.Event().wait()


class FakeRealtimeServer:
    """Loopback realtime server: `async with FakeRealtimeServer() as s: s.url` (ws://…/v1)."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, default_script: Script = idle_script
    ) -> None:
        self.host, self.port = host, port
        self.default_script = default_script
        self.scripts: deque[Script] = deque()
        self.connections: list[FakeRealtimeConnection] = []
        self.open_connections = 0
        self.invalid_events: list[str] = []
        self.truncations: list[dict] = []
        self.truncation_by_call: dict[str, int] = {}
        self.speech_started_ns: dict[str, int] = {}
        self.script_errors: list[str] = []
        self.inbound_latency_ns: list[int] = []
        self.audio_anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}
        self._server = None

    @property
    def url(self) -> str:
        """websocket_base_url for the SDK (it appends /realtime)."""
        return f"ws://{self.host}:{self.port}/v1"

    @property
    def http_url(self) -> str:
        """OPENAI_BASE_URL equivalent (the SDK derives ws:// from it)."""
        return f"http://{self.host}:{self.port}/v1"

    def push_script(self, script: Script) -> None:
        """Use `script` for the next connection (FIFO)."""
        self.scripts.append(script)

    def on_audio(self, conn: FakeRealtimeConnection, payload: str) -> None:
        """Account one stamped caller frame (bench): latency, loss, order, right call."""
        stamp = read_stamp(payload) if self.measure else None
        if stamp is None:
            return
        call_index, seq, sent_ns = stamp
        self.inbound_latency_ns.append(time.monotonic_ns() - sent_ns)
        if conn.call_index is None:
            conn.call_index = call_index
        elif call_index != conn.call_index:
            self.audio_anomalies["misdelivered"] += 1
        if seq <= conn.last_seq:
            self.audio_anomalies["reordered"] += 1
        elif seq > conn.last_seq + 1:
            self.audio_anomalies["lost"] += seq - conn.last_seq - 1
        conn.last_seq = max(conn.last_seq, seq)

    measure = False

    def stats(self) -> dict:
        """Counters as a JSON-able dict."""
        return {
            "open_connections": self.open_connections,
            "connections": len(self.connections),
            "invalid_events": len(self.invalid_events),
            "truncations": [t["audio_end_ms"] for t in self.truncations],
            "inbound_latency_ns": self.inbound_latency_ns,
            "audio_anomalies": self.audio_anomalies,
            "truncation_by_call": self.truncation_by_call,
            "speech_started_ns": self.speech_started_ns,
            "script_errors": self.script_errors,
        }

    def reset_stats(self) -> None:
        """Forget latency and loss counts (between benchmark windows); per-call results stay."""
        self.inbound_latency_ns = []
        self.audio_anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}

    def _http(self, connection: ServerConnection, request: Any) -> Response | None:
        if request.path.startswith("/stats"):
            body = json.dumps(self.stats()).encode()
            return Response(
                http.HTTPStatus.OK, "OK", Headers({"Content-Type": "application/json"}), body
            )
        if request.path.startswith("/reset"):
            self.reset_stats()
            return Response(http.HTTPStatus.OK, "OK", Headers(), b"{}")
        if "/realtime" not in request.path:
            return connection.respond(http.HTTPStatus.NOT_FOUND, "not a realtime path\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        conn = FakeRealtimeConnection(self, ws)
        self.connections.append(conn)
        self.open_connections += 1
        script = self.scripts.popleft() if self.scripts else self.default_script
        reader = asyncio.create_task(conn.run_reader())
        runner = asyncio.create_task(script(conn))
        try:
            done, _ = await asyncio.wait({reader, runner}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done and not runner.cancelled() and runner.exception() is not None:
                exc = runner.exception()
                if not isinstance(exc, ConnectionClosed):
                    self.script_errors.append(repr(exc))
            if runner in done:
                await reader  # script finished; keep serving until the client closes
        except ConnectionClosed:
            pass
        finally:
            for task in (reader, runner):
                task.cancel()
            for task in (reader, runner):
                with contextlib.suppress(BaseException):
                    await task
            self.open_connections -= 1

    async def __aenter__(self) -> FakeRealtimeServer:
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._http,
            max_size=2**20,
            compression=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()


def main() -> None:
    """Run the fake server standalone: `python -m tests.fakes.realtime_server --port 0`."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--script", default="idle", help="dotted path module:function or 'idle'")
    parser.add_argument("--measure", action="store_true", help="account stamped audio frames")
    args = parser.parse_args()

    async def run() -> None:
        script = idle_script
        if args.script != "idle":
            import importlib

            module, _, name = args.script.partition(":")
            script = getattr(importlib.import_module(module), name)
        server = FakeRealtimeServer(port=args.port, default_script=script)
        server.measure = args.measure
        async with server:
            print(server.port, flush=True)
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
