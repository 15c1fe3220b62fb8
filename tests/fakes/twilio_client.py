"""A fake Twilio Media Streams client: one phone call's websocket, as Twilio drives it.

It connects with `X-Twilio-Signature` (Twilio signs the wss URL with no parameters), sends
`connected`, `start` (with the stream token as a custom parameter), caller audio at a 20 ms
cadence, DTMF and `stop`, and plays what it receives the way Twilio does: outbound audio is
queued and played in real time (8 bytes per ms), a mark is echoed when the playhead reaches
it, and `clear` empties the queue and echoes every pending mark at once. The playhead is
computed from the clock, not ticked, so `played_ms()` is exact for truncation checks.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections import deque
from typing import Any

from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.fakes.realtime_server import read_stamp, stamp_audio

FRAME_MS = 20
BYTES_PER_MS = 8
SILENCE_FRAME = base64.b64encode(b"\xff" * 160).decode()


def start_message(*, stream_sid: str, call_sid: str, token: str) -> dict:
    """Twilio's `start` message for an inbound mu-law stream carrying our stream token."""
    return {
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": stream_sid,
        "start": {
            "accountSid": "AC00000000000000000000000000000001",
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "customParameters": {"token": token},
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        },
    }


def sign(url: str, auth_token: str, params: dict | None = None) -> str:
    """X-Twilio-Signature for `url` (and POST params), as Twilio computes it."""
    return RequestValidator(auth_token).compute_signature(url, params or {})


class FakeTwilioCall:
    """One call's media stream towards our consumer."""

    def __init__(
        self,
        ws_url: str,
        *,
        signed_url: str,
        auth_token: str,
        call_sid: str = "CA00000000000000000000000000000001",
        stream_sid: str = "MZ00000000000000000000000000000001",
        token: str = "",
        call_index: int = 0,
        signature: str | None = None,
        stamped: bool = False,
    ) -> None:
        self.ws_url = ws_url
        self.signed_url = signed_url
        self.auth_token = auth_token
        self.call_sid, self.stream_sid, self.token = call_sid, stream_sid, token
        self.call_index = call_index
        self.signature = signature
        self.stamped = stamped
        self.ws: ClientConnection | None = None
        self.events: list[dict] = []
        self.clears: list[float] = []
        self.played_at_clear_ms: list[float] = []
        self.outbound_latency_ns: list[int] = []
        self.anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._seq = 0
        self._last_in_seq = -1
        self._tasks: list[asyncio.Task] = []
        # Playout: bytes received, playhead anchor (bytes, time) and pending marks (position, name).
        self._received_bytes = 0
        self._anchor_bytes = 0
        self._anchor_time = time.monotonic()
        self._marks: deque[tuple[int, str]] = deque()
        self._marks_changed = asyncio.Event()

    # -- connection --------------------------------------------------------------------
    async def connect(self, *, start: bool = True) -> None:
        """Open the websocket (signed), then send connected and start."""
        signature = (
            self.signature if self.signature is not None else sign(self.signed_url, self.auth_token)
        )
        self.ws = await connect(
            self.ws_url,
            additional_headers={"X-Twilio-Signature": signature},
            compression=None,
            max_size=2**20,
        )
        self._tasks.append(asyncio.create_task(self._reader()))
        self._tasks.append(asyncio.create_task(self._player()))
        await self.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        if start:
            await self.send_start()

    async def send_start(self, token: str | None = None) -> None:
        """Send the start message carrying the stream token."""
        await self.send_json(
            start_message(
                stream_sid=self.stream_sid,
                call_sid=self.call_sid,
                token=self.token if token is None else token,
            )
        )

    async def send_json(self, message: dict) -> None:
        """Send one message as Twilio would (text frame)."""
        await self.ws.send(json.dumps(message))

    async def send_raw(self, data: str | bytes) -> None:
        """Send anything (malformed-input tests)."""
        await self.ws.send(data)

    async def send_media(self) -> None:
        """Send one 20 ms caller frame (stamped with call index, sequence and time if asked)."""
        payload = stamp_audio(self.call_index, self._seq) if self.stamped else SILENCE_FRAME
        await self.send_json(
            {
                "event": "media",
                "sequenceNumber": str(self._seq + 2),
                "streamSid": self.stream_sid,
                "media": {
                    "track": "inbound",
                    "chunk": str(self._seq + 1),
                    "timestamp": str(self._seq * FRAME_MS),
                    "payload": payload,
                },
            }
        )
        self._seq += 1

    def stream_audio(self, seconds: float | None = None) -> asyncio.Task:
        """Start sending caller frames every 20 ms (absolute schedule, no drift)."""

        async def run() -> None:
            loop = asyncio.get_running_loop()
            begin = loop.time()
            frames = None if seconds is None else int(seconds * 1000 / FRAME_MS)
            n = 0
            with contextlib.suppress(ConnectionClosed):
                while frames is None or n < frames:
                    await self.send_media()
                    n += 1
                    await asyncio.sleep(max(0.0, begin + n * FRAME_MS / 1000 - loop.time()))

        task = asyncio.create_task(run())
        self._tasks.append(task)
        return task

    async def press(self, digit: str) -> None:
        """The caller presses a key."""
        await self.send_json(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": "5",
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    async def hang_up(self) -> None:
        """Twilio's stop message, then the socket closes."""
        with contextlib.suppress(ConnectionClosed):
            await self.send_json(
                {
                    "event": "stop",
                    "sequenceNumber": "9",
                    "streamSid": self.stream_sid,
                    "stop": {
                        "accountSid": "AC00000000000000000000000000000001",
                        "callSid": self.call_sid,
                    },
                }
            )
        await self.close()

    async def close(self) -> None:
        """Close the socket and stop the background tasks."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks.clear()

    # -- playout -----------------------------------------------------------------------
    def _playhead(self, now: float) -> int:
        return min(
            self._received_bytes,
            self._anchor_bytes + int((now - self._anchor_time) * 1000 * BYTES_PER_MS),
        )

    def played_ms(self) -> float:
        """Milliseconds of outbound audio the caller has heard so far."""
        return self._playhead(time.monotonic()) / BYTES_PER_MS

    def buffered_ms(self) -> float:
        """Outbound audio queued but not yet played."""
        return (self._received_bytes - self._playhead(time.monotonic())) / BYTES_PER_MS

    def _on_audio(self, payload: str) -> None:
        now = time.monotonic()
        if self._playhead(now) >= self._received_bytes:  # queue ran dry: playback restarts now
            self._anchor_bytes, self._anchor_time = self._received_bytes, now
        self._received_bytes += len(payload) * 3 // 4 - payload[-2:].count("=")
        if self.stamped:
            stamp = read_stamp(payload)
            if stamp is not None:
                call_index, seq, sent_ns = stamp
                self.outbound_latency_ns.append(time.monotonic_ns() - sent_ns)
                if call_index != self.call_index:
                    self.anomalies["misdelivered"] += 1
                if seq <= self._last_in_seq:
                    self.anomalies["reordered"] += 1
                elif seq > self._last_in_seq + 1:
                    self.anomalies["lost"] += seq - self._last_in_seq - 1
                self._last_in_seq = max(seq, self._last_in_seq)

    async def _echo_mark(self, name: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.send_json(
                {
                    "event": "mark",
                    "sequenceNumber": "7",
                    "streamSid": self.stream_sid,
                    "mark": {"name": name},
                }
            )

    async def _player(self) -> None:
        while True:
            if not self._marks:
                self._marks_changed.clear()
                await self._marks_changed.wait()
                continue
            position, name = self._marks[0]
            now = time.monotonic()
            if self._playhead(now) >= position:
                self._marks.popleft()
                await self._echo_mark(name)
                continue
            due = self._anchor_time + (position - self._anchor_bytes) / BYTES_PER_MS / 1000
            self._marks_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._marks_changed.wait(), max(0.0, due - now))

    async def _reader(self) -> None:
        try:
            async for text in self.ws:
                message = json.loads(text)
                event = message.get("event")
                if message.get("streamSid") != self.stream_sid:
                    self.anomalies["misdelivered"] += 1
                if event == "media":
                    self._on_audio(message["media"]["payload"])
                    continue
                self.events.append(message)
                if event == "mark":
                    self._marks.append((self._received_bytes, message["mark"]["name"]))
                    self._marks_changed.set()
                elif event == "clear":
                    now = time.monotonic()
                    self.clears.append(now)
                    played = self._playhead(now)
                    self.played_at_clear_ms.append(played / BYTES_PER_MS)
                    self._received_bytes = self._anchor_bytes = played
                    self._anchor_time = now
                    pending = list(self._marks)
                    self._marks.clear()
                    self._marks_changed.set()
                    for _, name in pending:  # Twilio echoes cleared marks immediately
                        await self._echo_mark(name)
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd else 1006
        else:
            self.close_code = self.ws.close_code
        finally:
            self.closed.set()

    # -- assertions helpers ------------------------------------------------------------
    async def wait_for(self, predicate: Any, timeout: float = 10) -> dict:  # noqa: ASYNC109 -- test helper with a deadline
        """Wait for a received non-media message matching predicate."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for message in self.events[seen:]:
                if predicate(message):
                    return message
            seen = len(self.events)
            if self.closed.is_set() or time.monotonic() > deadline:
                raise TimeoutError(
                    f"no matching message; got {[m.get('event') for m in self.events]}"
                )
            await asyncio.sleep(0.005)

    async def wait_closed(self, timeout: float = 10) -> int | None:  # noqa: ASYNC109 -- test helper with a deadline
        """Wait until the server closes the socket; return the close code."""
        await asyncio.wait_for(self.closed.wait(), timeout)
        return self.close_code
