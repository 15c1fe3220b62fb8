"""Lean load generation for bench_voice: the fake realtime model and the fake Twilio calls.

The voice benchmark measures one Daphne process on a 2-core machine, so the load side must fit
in the other core with room to spare at 200 calls (about 20 000 WebSocket messages a second
through the fakes). The `websockets` library costs tens of microseconds per message (a task,
locks, a frame assembler), which made the old driver the bottleneck. Here both fakes are plain
`asyncio.Protocol`s on uvloop (when installed) with a minimal RFC 6455 codec:

- no task per message and no task per call: each call's 20 ms cadence is one `call_at` chain;
- client frames use the all-zero mask key (allowed by RFC 6455 section 5.3: the server unmasks
  whatever key it gets), so sending a caller frame is a header plus the text, no XOR;
- payloads are precomputed except the 16-byte stamp (call index, sequence, send time);
- the fake model checks `input_audio_buffer.append` against its fixed template and validates a
  sample of them (and every other client event) with the openai SDK's pydantic types, as the
  test fake does, so an invalid event from the bridge is still counted.

Latency is stamped at the sending fake and read at the receiving fake (CLOCK_MONOTONIC is shared
by all processes), identically for the bare relay and our bridge.

Two entry points, each its own process: `python -m bench.voice_load model` (prints its port,
serves `/stats` and `/reset`) and `python -m bench.voice_load drive ...` (one benchmark phase:
connects the calls, measures, hangs up, prints one JSON row).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import struct
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from tests.fakes.twilio_client import start_message

STAMP = struct.Struct("<IIq")  # same layout as tests.fakes.realtime_server.STAMP
# 16 stamp bytes + 2 filler = 18 bytes = 24 base64 chars; the other 142 bytes never change.
_TAIL = base64.b64encode(b"\xff" * 142).decode()
FRAME_S = 0.02
BYTES_PER_MS = 8
ITEM_FRAMES = 100  # the fake model speaks 2 s items
APPEND_PREFIX = '{"type":"input_audio_buffer.append","audio":"'
VALIDATE_EVERY = 500  # audio appends validated with the SDK types: the first and every Nth
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_ZERO_MASK = b"\0\0\0\0"


def use_uvloop() -> str:
    """Install uvloop's event loop policy if available; name the loop in use."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def stamped_payload(call_index: int, seq: int) -> str:
    """20 ms of mu-law, base64, whose first bytes stamp call, sequence and send time."""
    head = STAMP.pack(call_index, seq, time.monotonic_ns()) + b"\xff\xff"
    return base64.b64encode(head).decode() + _TAIL


def read_stamp(payload: str) -> tuple[int, int, int] | None:
    """(call index, sequence, send ns) of a stamped payload, or None."""
    try:
        head = base64.b64decode(payload[:24])
    except ValueError:
        return None
    if len(head) < STAMP.size:
        return None
    return STAMP.unpack_from(head)


# -- RFC 6455, just enough -------------------------------------------------------------------
def encode_frame(payload: bytes, *, opcode: int = 1, mask: bool) -> bytes:
    """One final frame; clients mask with the zero key (the payload is unchanged)."""
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head = bytes((0x80 | opcode, bit | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, bit | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, bit | 127)) + n.to_bytes(8, "big")
    return head + _ZERO_MASK + payload if mask else head + payload


def _unmask(data: bytes, key: bytes) -> bytes:
    if key == _ZERO_MASK:
        return data
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


class FrameReader:
    """Incremental frame parser: feed bytes, get complete (opcode, payload) messages."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self._fragments: list[bytes] = []
        self._fragment_opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """Messages completed by `data` (fragments joined, masks removed)."""
        buf = self.buf
        buf += data
        out = []
        pos, end = 0, len(buf)
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            p = pos + 2
            if length == 126:
                if end - p < 2:
                    break
                length = int.from_bytes(buf[p : p + 2], "big")
                p += 2
            elif length == 127:
                if end - p < 8:
                    break
                length = int.from_bytes(buf[p : p + 8], "big")
                p += 8
            key = None
            if b1 & 0x80:
                if end - p < 4:
                    break
                key = bytes(buf[p : p + 4])
                p += 4
            if end - p < length:
                break
            payload = bytes(buf[p : p + length])
            if key is not None:
                payload = _unmask(payload, key)
            pos = p + length
            opcode = b0 & 0x0F
            if opcode >= 8:  # control frames are never fragmented
                out.append((opcode, payload))
            elif not b0 & 0x80:  # first or middle fragment
                if opcode:
                    self._fragment_opcode = opcode
                self._fragments.append(payload)
            elif opcode == 0:  # last fragment
                self._fragments.append(payload)
                out.append((self._fragment_opcode, b"".join(self._fragments)))
                self._fragments = []
            else:
                out.append((opcode, payload))
        del buf[:pos]
        return out


def _accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324 -- RFC 6455 handshake


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the fake realtime model ----------------------------------------------------------------
class ModelConnection(asyncio.Protocol):
    """Server side of one realtime session: stamped 20 ms deltas, one barge-in, protocol basics."""

    def __init__(self, server: LeanRealtimeServer) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.reader: FrameReader | None = None
        self.call_index: int | None = None
        self.last_seq = -1
        self.appends = 0
        self.events = 0
        self.timer: asyncio.TimerHandle | None = None
        self.open = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self.reader is None:
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, rest = self.head.partition(b"\r\n\r\n")
            self._handshake(head.decode("latin-1"))
            if self.reader is None or not rest:
                return
            data = rest
        for opcode, payload in self.reader.feed(data):
            if opcode == 1:
                self.on_text(payload.decode())
            elif opcode == 9:
                self.transport.write(encode_frame(payload, opcode=10, mask=False))
            elif opcode == 8:
                self.transport.write(encode_frame(payload[:2], opcode=8, mask=False))
                self.transport.close()

    def _handshake(self, head: str) -> None:
        lines = head.split("\r\n")
        path = lines[0].split(" ")[1] if " " in lines[0] else "/"
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if path.startswith(("/stats", "/reset")):
            if path.startswith("/reset"):
                self.server.reset()
            body = json.dumps(self.server.stats() if path.startswith("/stats") else {}).encode()
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            self.transport.close()
            return
        key = headers.get("sec-websocket-key")
        if "/realtime" not in path or not key:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            self.transport.close()
            return
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {_accept_key(key)}\r\n\r\n".encode()
        )
        self.reader = FrameReader()
        self.open = True
        self.server.open_connections += 1
        self.server.connections += 1

    def send(self, text: str) -> None:
        """Send one server event (already serialized)."""
        self.transport.write(encode_frame(text.encode(), mask=False))

    def send_event(self, event: dict) -> None:
        """Send one server event."""
        self.events += 1
        event.setdefault("event_id", f"event_x{self.events}")
        self.send(json.dumps(event, separators=(",", ":")))

    def on_text(self, text: str) -> None:
        """One client event: audio appends on the fast path, everything else validated."""
        server = self.server
        if text.startswith(APPEND_PREFIX) and text.endswith('"}'):
            self.appends += 1
            if self.appends % VALIDATE_EVERY == 1 and self._invalid(json.loads(text)):
                return
            self.on_audio(text[len(APPEND_PREFIX) : -2])
            return
        try:
            event = json.loads(text)
        except ValueError:
            event = None
        if self._invalid(event):
            return
        kind = event["type"]
        if kind == "input_audio_buffer.append":
            self.appends += 1
            self.on_audio(event["audio"])
        elif kind == "session.update":
            self.send_event(
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
            server.truncation_by_call[str(self.call_index)] = event["audio_end_ms"]
            server.truncated_item_by_call[str(self.call_index)] = event["item_id"]
            self.send_event(
                {
                    "type": "conversation.item.truncated",
                    "item_id": event["item_id"],
                    "content_index": 0,
                    "audio_end_ms": event["audio_end_ms"],
                }
            )

    def _invalid(self, event: Any) -> bool:
        from tests.fakes.realtime_server import validate_client_event

        self.server.validated += 1
        problem = validate_client_event(event)
        if problem is None:
            return False
        self.server.invalid_events.append(problem)
        self.send_event(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "invalid_event",
                    "message": problem,
                },
            }
        )
        return True

    def on_audio(self, payload: str) -> None:
        """Account one stamped caller frame: latency, loss, order, right call."""
        stamp = read_stamp(payload)
        if stamp is None:
            return
        call_index, seq, sent_ns = stamp
        server = self.server
        if server.recording:
            server.inbound_latency_ns.append(time.monotonic_ns() - sent_ns)
        if self.call_index is None:
            self.call_index = call_index
            self._start_speaking()
        elif call_index != self.call_index:
            server.anomalies["misdelivered"] += 1
        if seq <= self.last_seq:
            server.anomalies["reordered"] += 1
        elif seq > self.last_seq + 1:
            server.anomalies["lost"] += seq - self.last_seq - 1
        self.last_seq = max(self.last_seq, seq)

    # The model's script: 2 s items of stamped 20 ms deltas in real time; in the second item
    # the caller starts speaking 0.8-1.2 s in (speech_started), and the model moves on.
    def _start_speaking(self) -> None:
        self.begin = self.loop.time()
        self.seq = 0
        self.item = 0
        self.frame = 0
        self.barge_frame = random.randint(40, 60)
        self._tick()

    def _tick(self) -> None:
        if not self.open:
            return
        if self.item == 1 and self.frame == self.barge_frame:
            self.server.speech_started_ns[str(self.call_index)] = time.monotonic_ns()
            self.send(
                '{"type":"input_audio_buffer.speech_started","event_id":"event_s1",'
                '"audio_start_ms":0,"item_id":"item_u1"}'
            )
            self.item, self.frame = 2, 0
        payload = stamped_payload(self.call_index, self.seq)
        self.send(
            f'{{"type":"response.output_audio.delta","event_id":"event_{self.seq}",'
            f'"response_id":"resp_{self.item}","item_id":"item_b{self.item}","output_index":0,'
            f'"content_index":0,"delta":"{payload}"}}'
        )
        self.seq += 1
        self.frame += 1
        if self.frame == ITEM_FRAMES:
            self.item, self.frame = self.item + 1, 0
        self.timer = self.loop.call_at(self.begin + self.seq * FRAME_S, self._tick)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.open:
            self.open = False
            self.server.open_connections -= 1
            if self.call_index is not None:
                self.server.closed_ns[str(self.call_index)] = time.monotonic_ns()


class LeanRealtimeServer:
    """Counters shared by the model connections, served as JSON on `/stats`."""

    def __init__(self) -> None:
        self.open_connections = 0
        self.connections = 0
        self.validated = 0
        self.invalid_events: list[str] = []
        self.truncation_by_call: dict[str, int] = {}
        self.truncated_item_by_call: dict[str, str] = {}
        self.speech_started_ns: dict[str, int] = {}
        self.closed_ns: dict[str, int] = {}
        self.recording = True
        self.reset()

    def reset(self) -> None:
        """Start a measurement window: forget latencies and frame anomalies."""
        self.inbound_latency_ns: list[int] = []
        self.anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}

    def stats(self) -> dict:
        """Everything the driver needs, JSON-able."""
        return {
            "open_connections": self.open_connections,
            "connections": self.connections,
            "validated_events": self.validated,
            "invalid_events": len(self.invalid_events),
            "invalid_examples": self.invalid_events[:5],
            "inbound_latency_ns": self.inbound_latency_ns,
            "audio_anomalies": self.anomalies,
            "truncation_by_call": self.truncation_by_call,
            "truncated_item_by_call": self.truncated_item_by_call,
            "speech_started_ns": self.speech_started_ns,
            "closed_ns": self.closed_ns,
        }


async def serve_model(port: int) -> None:
    """Run the fake realtime model until killed; print the port first."""
    server = LeanRealtimeServer()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: ModelConnection(server), "127.0.0.1", port, backlog=1024
    )
    print(listener.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


# -- the fake Twilio calls ------------------------------------------------------------------
class TwilioCall(asyncio.Protocol):
    """One call's media stream as Twilio drives it: 20 ms caller frames, real-time playout,
    marks echoed when played, `clear` empties the queue and echoes pending marks."""

    def __init__(self, driver: Driver, index: int, call_sid: str, token: str) -> None:
        self.driver = driver
        self.loop = driver.loop
        self.index = index
        self.call_sid = call_sid
        self.stream_sid = "MZ" + call_sid[2:]
        self.token = token
        self.transport: asyncio.Transport | None = None
        self.upgraded: asyncio.Future = self.loop.create_future()
        self.closed = self.loop.create_future()
        self.head = b""
        self.reader = FrameReader()
        self.seq = 0
        self.begin = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.streaming = False
        self.first_audio: asyncio.Future = self.loop.create_future()
        self.last_in_seq = -1
        self.clears: list[int] = []
        self.played_at_clear_ms: list[float] = []
        self.received_bytes = 0
        self.anchor_bytes = 0
        self.anchor_time = time.monotonic()
        self.marks: deque[tuple[int, str]] = deque()
        self.mark_timer: asyncio.TimerHandle | None = None
        self._prefix = f'{{"event":"media","streamSid":"{self.stream_sid}","sequenceNumber":"'

    # connection
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(  # type: ignore[attr-defined]
            (
                f"GET /voice/twilio/stream/ HTTP/1.1\r\nHost: 127.0.0.1:{self.driver.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"X-Twilio-Signature: {self.driver.signature}\r\n\r\n"
            ).encode()
        )

    def send_text(self, text: str) -> None:
        """One text frame to our server."""
        if not self.transport.is_closing():
            self.transport.write(encode_frame(text.encode(), mask=True))

    def data_received(self, data: bytes) -> None:
        if not self.upgraded.done():
            self.head += data
            if b"\r\n\r\n" not in self.head:
                return
            head, _, data = self.head.partition(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                self.upgraded.set_exception(ConnectionRefusedError(head.split(b"\r\n")[0]))
                self.transport.close()
                return
            self.upgraded.set_result(True)
            self._send_opening()
            if not data:
                return
        for opcode, payload in self.reader.feed(data):
            if opcode == 1:
                self.on_text(payload.decode())
            elif opcode == 9:
                self.transport.write(encode_frame(payload, opcode=10, mask=True))
            elif opcode == 8:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.streaming = False
        for timer in (self.timer, self.mark_timer):
            if timer is not None:
                timer.cancel()
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError("closed during the upgrade"))
        if not self.closed.done():
            self.closed.set_result(True)

    def _send_opening(self) -> None:
        self.send_text('{"event":"connected","protocol":"Call","version":"1.0.0"}')
        start = start_message(stream_sid=self.stream_sid, call_sid=self.call_sid, token=self.token)
        self.send_text(json.dumps(start))

    # caller audio on an absolute 20 ms schedule
    def stream_audio(self, begin: float) -> None:
        """Send a caller frame every 20 ms from loop time `begin`."""
        self.streaming = True
        self.begin = begin
        self.timer = self.loop.call_at(begin, self._tick)

    def _tick(self) -> None:
        if not self.streaming:
            return
        seq = self.seq
        lag = self.loop.time() - (self.begin + seq * FRAME_S)
        if self.driver.recording:
            self.driver.tick_lag_s.append(lag)
        payload = stamped_payload(self.index, seq)
        self.send_text(
            f'{self._prefix}{seq + 2}","media":{{"track":"inbound","chunk":"{seq + 1}",'
            f'"timestamp":"{seq * 20}","payload":"{payload}"}}}}'
        )
        self.seq = seq + 1
        self.timer = self.loop.call_at(self.begin + self.seq * FRAME_S, self._tick)

    def hang_up(self) -> None:
        """Twilio's stop message, then the close handshake."""
        self.streaming = False
        if self.timer is not None:
            self.timer.cancel()
        self.driver.hangup_ns[str(self.index)] = time.monotonic_ns()
        self.send_text(
            json.dumps(
                {
                    "event": "stop",
                    "sequenceNumber": str(self.seq + 2),
                    "streamSid": self.stream_sid,
                    "stop": {
                        "accountSid": "AC00000000000000000000000000000001",
                        "callSid": self.call_sid,
                    },
                }
            )
        )
        if not self.transport.is_closing():
            self.transport.write(encode_frame((1000).to_bytes(2, "big"), opcode=8, mask=True))
        self.loop.call_later(5, self.transport.close)

    # playout, as Twilio plays what we send
    def _playhead(self, now: float) -> int:
        return min(
            self.received_bytes,
            self.anchor_bytes + int((now - self.anchor_time) * 1000 * BYTES_PER_MS),
        )

    def on_text(self, text: str) -> None:
        """One message from our server: media, mark or clear."""
        message = json.loads(text)
        driver = self.driver
        if message.get("streamSid") != self.stream_sid:
            driver.anomalies["misdelivered"] += 1
        event = message.get("event")
        if event == "media":
            payload = message["media"]["payload"]
            now = time.monotonic()
            if self._playhead(now) >= self.received_bytes:  # queue ran dry: restart now
                self.anchor_bytes, self.anchor_time = self.received_bytes, now
            self.received_bytes += len(payload) * 3 // 4 - payload[-2:].count("=")
            if not self.first_audio.done():
                self.first_audio.set_result(now)
            stamp = read_stamp(payload)
            if stamp is None:
                return
            call_index, seq, sent_ns = stamp
            if driver.recording:
                driver.outbound_latency_ns.append(time.monotonic_ns() - sent_ns)
            if call_index != self.index:
                driver.anomalies["misdelivered"] += 1
            if seq <= self.last_in_seq:
                driver.anomalies["reordered"] += 1
            elif seq > self.last_in_seq + 1:
                driver.anomalies["lost"] += seq - self.last_in_seq - 1
            self.last_in_seq = max(seq, self.last_in_seq)
        elif event == "mark":
            self.marks.append((self.received_bytes, message["mark"]["name"]))
            if self.mark_timer is None:
                self._play_marks()
        elif event == "clear":
            now = time.monotonic()
            self.clears.append(time.monotonic_ns())
            played = self._playhead(now)
            self.played_at_clear_ms.append(played / BYTES_PER_MS)
            self.received_bytes = self.anchor_bytes = played
            self.anchor_time = now
            pending, self.marks = self.marks, deque()
            if self.mark_timer is not None:
                self.mark_timer.cancel()
                self.mark_timer = None
            for _, name in pending:  # Twilio echoes cleared marks at once
                self._echo_mark(name)

    def _echo_mark(self, name: str) -> None:
        self.send_text(
            f'{{"event":"mark","sequenceNumber":"7","streamSid":"{self.stream_sid}",'
            f'"mark":{{"name":{json.dumps(name)}}}}}'
        )

    def _play_marks(self) -> None:
        self.mark_timer = None
        now = time.monotonic()
        while self.marks:
            position, name = self.marks[0]
            if self._playhead(now) < position:
                due = self.anchor_time + (position - self.anchor_bytes) / BYTES_PER_MS / 1000
                self.mark_timer = self.loop.call_later(max(0.0, due - now), self._play_marks)
                return
            self.marks.popleft()
            self._echo_mark(name)


def _cpu_ticks(pid: int | str) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _machine_busy_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values[:8]) - idle, sum(values[:8])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Driver:
    """One benchmark phase: N fake Twilio calls against one server, measured."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.port = args.port
        self.signature = args.signature
        self.recording = False
        self.tick_lag_s: list[float] = []
        self.outbound_latency_ns: list[int] = []
        self.anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}
        self.hangup_ns: dict[str, int] = {}

    async def _get(self, path: str) -> dict:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.args.model_port)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: fake\r\n\r\n".encode())
        data = await reader.read()
        writer.close()
        return json.loads(data.partition(b"\r\n\r\n")[2])

    async def _connect(self, call: TwilioCall) -> bool:
        try:
            await self.loop.create_connection(lambda: call, "127.0.0.1", self.port)
            await asyncio.wait_for(call.upgraded, 60)
        except (OSError, TimeoutError):
            return False
        return True

    async def run(self) -> dict:
        """Connect, stream, measure, hang up; the row of figures."""
        args = self.args
        pids = {"daphne": args.daphne_pid, "model": args.model_pid, "driver": os.getpid()}
        # One warm-up call first, so one-time costs (lazy imports, the SDK client, database
        # connections) are in the idle RSS and not counted as per-call memory.
        (warm_sid, warm_token), *call_list = args.call_list
        warm = TwilioCall(self, 1_000_000 + args.first_index, warm_sid, warm_token)
        if await self._connect(warm):
            warm.stream_audio(self.loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(warm.first_audio, 30)
            warm.hang_up()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(warm.closed, 5)
            await asyncio.sleep(0.5)
        rss_idle = _rss_mb(args.daphne_pid)
        calls = [
            TwilioCall(self, args.first_index + i, sid, token)
            for i, (sid, token) in enumerate(call_list)
        ]
        connected_at = time.monotonic()
        ok = []
        for chunk in range(0, len(calls), 20):
            ok += await asyncio.gather(*(self._connect(c) for c in calls[chunk : chunk + 20]))
        connect_s = time.monotonic() - connected_at
        live = [c for c, good in zip(calls, ok, strict=True) if good]
        begin = self.loop.time() + 0.05
        for i, call in enumerate(live):  # spread the calls evenly over the 20 ms cadence
            call.stream_audio(begin + FRAME_S * i / max(1, len(live)))
        # Steady state only: every call hears the model (so its whole path is up), then the
        # frames that queued while the sessions were opening have a second to drain.
        streaming_at = time.monotonic()
        if live:
            await asyncio.wait([c.first_audio for c in live], timeout=60)
        first_audio_s = [
            c.first_audio.result() - streaming_at for c in live if c.first_audio.done()
        ]
        await asyncio.sleep(1.0)
        await self._get("/reset")
        self.recording = True
        ticks0 = {name: _cpu_ticks(pid) for name, pid in pids.items()}
        busy0, total0 = _machine_busy_ticks()
        t0 = time.monotonic()
        await asyncio.sleep(args.seconds)
        elapsed = time.monotonic() - t0
        ticks1 = {name: _cpu_ticks(pid) for name, pid in pids.items()}
        busy1, total1 = _machine_busy_ticks()
        self.recording = False
        rss = _rss_mb(args.daphne_pid)
        stats = await self._get("/stats")
        for call in live:
            call.hang_up()
        await asyncio.sleep(1.0)
        after = await self._get("/stats")
        if live:
            await asyncio.wait([c.closed for c in live], timeout=5)
        for call in calls:
            if call.transport is not None:
                call.transport.close()

        hz = os.sysconf("SC_CLK_TCK")
        cpu = {name: (ticks1[name] - ticks0[name]) / hz / elapsed * 100 for name in pids}
        ncpu = os.cpu_count() or 1
        machine_pct = (busy1 - busy0) / max(1, total1 - total0) * 100 * ncpu
        n = max(1, len(live))
        inbound = [ns / 1e6 for ns in stats["inbound_latency_ns"]]
        outbound = [ns / 1e6 for ns in self.outbound_latency_ns]
        anomalies = {k: v + self.anomalies[k] for k, v in stats["audio_anomalies"].items()}
        clear_ms, truncate_error = [], []
        for call in live:
            key = str(call.index)
            started = stats["speech_started_ns"].get(key)
            if started and call.clears:
                clear_ms.append((call.clears[0] - started) / 1e6)
            if key in stats["truncation_by_call"] and call.played_at_clear_ms:
                # Audio heard of the item the bridge truncated: the first item is whole
                # (ITEM_FRAMES frames), so the second starts at its end. Under heavy lag the
                # caller may still be hearing the first item when the barge-in comes.
                item = stats["truncated_item_by_call"].get(key)
                start_ms = {"item_b0": 0, "item_b1": ITEM_FRAMES * 20}.get(item, ITEM_FRAMES * 20)
                heard_in_item = call.played_at_clear_ms[0] - start_ms
                truncate_error.append(abs(stats["truncation_by_call"][key] - heard_in_item))
        close_ms = [
            (after["closed_ns"][key] - hung) / 1e6
            for key, hung in self.hangup_ns.items()
            if key in after["closed_ns"]
        ]
        expected_frames = len(live) * args.seconds / FRAME_S
        ours = args.kind == "ours"
        return {
            "server": args.kind,
            "calls": len(calls),
            "in_p50_ms": _percentile(inbound, 0.5),
            "in_p99_ms": _percentile(inbound, 0.99),
            "out_p50_ms": _percentile(outbound, 0.5),
            "out_p99_ms": _percentile(outbound, 0.99),
            "in_frames_pct": len(inbound) / expected_frames * 100 if expected_frames else 0,
            "out_frames_pct": len(outbound) / expected_frames * 100 if expected_frames else 0,
            "lost": anomalies["lost"],
            "reordered": anomalies["reordered"],
            "misdelivered": anomalies["misdelivered"],
            "cpu_pct_per_call": cpu["daphne"] / n,
            # Less sensitive to a busy machine than % per call: a starved server forwards fewer
            # frames, and its CPU per call falls with them.
            "cpu_us_per_frame": (ticks1["daphne"] - ticks0["daphne"])
            / hz
            / max(1, len(inbound) + len(outbound))
            * 1e6,
            "daphne_cpu_pct": cpu["daphne"],
            "model_cpu_pct": cpu["model"],
            "driver_cpu_pct": cpu["driver"],
            "other_cpu_pct": max(0.0, machine_pct - sum(cpu.values())),
            "driver_lag_p99_ms": _percentile(self.tick_lag_s, 0.99) * 1000,
            "rss_mb_per_call": max(0.0, rss - rss_idle) / n,
            "clear_p50_ms": _percentile(clear_ms, 0.5) if ours else "",
            "clear_p99_ms": _percentile(clear_ms, 0.99) if ours else "",
            "trunc_err_p99_ms": _percentile(truncate_error, 0.99) if ours else "",
            "barge_ins": len(truncate_error) if ours else "",
            "rt_close_p99_ms": _percentile(close_ms, 0.99),
            "rt_open_1s_after": after["open_connections"],
            "rejected_connects": len(calls) - len(live),
            "connect_s": connect_s,
            "first_audio_p99_s": _percentile(first_audio_s, 0.99),
            "no_audio_calls": len(live) - len(first_audio_s),
            "invalid_events": after["invalid_events"],
            "validated_events": after["validated_events"],
        }


async def _drive(args: argparse.Namespace) -> None:
    row = await Driver(args).run()
    print(json.dumps(row), flush=True)


def main() -> None:
    """`python -m bench.voice_load model|drive ...` (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    model = sub.add_parser("model")
    model.add_argument("--port", type=int, default=0)
    drive = sub.add_parser("drive")
    drive.add_argument("--kind", required=True)
    drive.add_argument("--port", type=int, required=True, help="Daphne's port")
    drive.add_argument("--daphne-pid", type=int, required=True)
    drive.add_argument("--model-port", type=int, required=True)
    drive.add_argument("--model-pid", type=int, required=True)
    drive.add_argument("--signature", required=True)
    drive.add_argument("--calls", required=True, help="JSON file: [[call_sid, token], ...]")
    drive.add_argument("--first-index", type=int, default=0)
    drive.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    loop_name = use_uvloop()
    print(f"loop={loop_name}", file=sys.stderr, flush=True)
    if args.command == "model":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_model(args.port))
    else:
        args.call_list = json.loads(Path(args.calls).read_text())
        asyncio.run(_drive(args))


if __name__ == "__main__":
    main()
