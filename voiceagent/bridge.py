"""The call loop: one Twilio media stream bridged to one realtime session.

Owns, per call: forwarding audio frame by frame in both directions (never batched), tracking
how much assistant audio the caller has actually heard (Twilio echoes our marks as playback
reaches them), barge-in (`clear` to Twilio, `conversation.item.truncate` at the audio heard),
tool calls on server-side state, DTMF, the idle and maximum-length timers, and failure handling.

Invariants:
- No call is dropped silently: if the realtime side fails (error event it cannot recover from,
  disconnect, unreachable at start) the caller hears an apology and is transferred to staff;
  if that transfer fails the stream is closed so Twilio continues with the TwiML fallback.
- Every task the bridge starts is cancelled and awaited in `close()`, which also closes the
  realtime socket; `close()` is idempotent and always runs (the consumer calls it in finally).
- Logs carry the CallSid, event types, ids and sizes only; transcripts go to the encrypted
  store through `CallServices.transcript` and nowhere else.
- Twilio gets only media, mark and clear for its own streamSid (built by `twilio.frames`); the
  realtime side gets only client events the SDK's types accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from voiceagent.realtime.base import RealtimeDisconnectedError, RealtimeError, RealtimeSession
from voiceagent.twilio import frames

logger = logging.getLogger(__name__)

# Mark granularity; between marks the playhead is interpolated by the clock, so spacing costs
# no accuracy on a steady stream. 200 ms, not 100: each mark is a message out and its echo in,
# and at 100 ms marks were a fifth of a call's Twilio traffic (a quiet A/B at 100 calls: 9% of
# the server's CPU; an earlier A/B on a busy machine saw no difference).
MARK_EVERY_MS = 200
HANDOFF_TIMEOUT_S = 12.0  # longest wait for the hand-off line's mark before transferring anyway
FATAL_ERROR_CODES = frozenset(
    {"session_expired", "server_error", "internal_error", "rate_limit_exceeded"}
)
MAX_ERROR_EVENTS = 5
APOLOGY = "Sorry, our assistant is having trouble. Let me put you through to our team."
DIAL_OPERATOR_DIGIT = "0"
IDLE_PROMPT = "The caller has been silent for a while. Briefly ask whether they are still there."


@dataclass(frozen=True)
class BridgeLimits:
    """Timers of one call."""

    idle_seconds: float = 30.0
    max_call_seconds: float = 15 * 60.0
    tick_seconds: float = 1.0


class ToolResultLike(Protocol):
    """What `voiceagent.tools.run_tool` returns."""

    output: dict
    action: str | None


class CallServices(Protocol):
    """The records side of a call, as the bridge needs it (Django implementation below)."""

    async def connected(self, *, provider: str) -> None:
        """The realtime session is open."""

    async def transcript(self, *, role: str, text: str) -> None:
        """Store one transcript turn (encrypted)."""

    async def run_tool(self, *, name: str, arguments: str) -> ToolResultLike:
        """Run a tool on the call's server-side state."""

    async def transfer(self, *, reason: str, say: str | None = None) -> bool:
        """Redirect the live call to staff; False if Twilio refused."""

    async def finish(self, *, outcome: str) -> None:
        """Close the call record."""


class _Playout:
    """What Twilio has buffered and played of the assistant's audio, from our marks' echoes."""

    __slots__ = (
        "anchor_item",
        "anchor_ms",
        "anchor_time",
        "order",
        "pending",
        "sent_ms",
        "seq",
        "unmarked_ms",
    )

    def __init__(self) -> None:
        self.sent_ms: dict[str, float] = {}  # per assistant item: audio sent to Twilio
        self.order: list[str] = []  # items in the order their audio was sent
        self.unmarked_ms = 0.0
        # (mark name, item, end ms); a list, not a deque: rarely more than a few entries, and
        # an empty deque costs a 64-slot block per call.
        self.pending: list[tuple[str, str, float]] = []
        # The playhead: at `anchor_time` Twilio was playing `anchor_item` at `anchor_ms`.
        self.anchor_item: str | None = None
        self.anchor_ms = 0.0
        self.anchor_time = 0.0
        self.seq = 0

    def on_sent(self, item_id: str, ms: float, now: float) -> None:
        if item_id not in self.sent_ms:
            self.sent_ms[item_id] = 0.0
            self.order.append(item_id)
            if len(self.order) > 8:  # only the recent items can still be playing
                self.sent_ms.pop(self.order.pop(0), None)
        if not self.pending and self.unmarked_ms == 0 and not self._playing(now):
            # Twilio's queue is empty, so this chunk starts playing right away.
            self.anchor_item, self.anchor_ms, self.anchor_time = item_id, self.sent_ms[item_id], now
        self.sent_ms[item_id] += ms
        self.unmarked_ms += ms

    def _playing(self, now: float) -> bool:
        if self.anchor_item is None:
            return False
        return self.played_ms(self.anchor_item, now) < self.sent_ms.get(self.anchor_item, 0.0)

    def next_mark(self, item_id: str) -> str:
        self.seq += 1
        name = f"a{self.seq}"
        self.pending.append((name, item_id, self.sent_ms[item_id]))
        self.unmarked_ms = 0.0
        return name

    def on_echo(self, name: str, now: float) -> bool:
        """Twilio played up to mark `name`; False if it is not one we are waiting for."""
        for index, (mark, item_id, end_ms) in enumerate(self.pending):
            if mark == name:
                del self.pending[: index + 1]
                self.anchor_item, self.anchor_ms, self.anchor_time = item_id, end_ms, now
                return True
        return False

    def played_ms(self, item_id: str, now: float) -> float:
        """Estimated ms of `item_id` the caller has heard (clock since the last echo, bounded)."""
        if self.anchor_item is None or item_id not in self.sent_ms:
            return 0.0
        position = self.anchor_ms + (now - self.anchor_time) * 1000.0
        # Walk from the anchor item forward: audio plays in the order it was sent.
        try:
            index = self.order.index(self.anchor_item)
        except ValueError:
            return 0.0
        if self.order.index(item_id) < index:
            return self.sent_ms[item_id]  # sent before the item now playing: heard in full
        for current in self.order[index:]:
            length = self.sent_ms[current]
            if current == item_id:
                return max(0.0, min(position, length))
            position -= length
            if position <= 0:
                return 0.0
        return 0.0

    def clear(self) -> None:
        """Twilio dropped its buffer: pending marks will echo but mean nothing now."""
        self.pending.clear()
        self.unmarked_ms = 0.0
        self.anchor_item = None


class CallBridge:
    """Bridges one call's Twilio media stream and realtime session (see module docstring)."""

    # Slots, not a per-instance dict: hundreds of live calls share a process.
    __slots__ = (
        "_action_mark",
        "_action_mark_echoed",
        "_close_twilio",
        "_closed",
        "_failed_reason",
        "_open_session",
        "_pending_action",
        "_record_task",
        "_records",
        "_records_closed",
        "_send_twilio",
        "_tasks",
        "_timer",
        "_timer_task",
        "_tool_tasks",
        "_truncated",
        "_twilio_open",
        "call_sid",
        "error_events",
        "frames_in",
        "frames_out",
        "greet",
        "idle_prompts",
        "last_activity",
        "limits",
        "outcome",
        "playout",
        "provider",
        "recorder",
        "services",
        "session",
        "started_at",
        "state",
        "stream_sid",
    )

    def __init__(
        self,
        *,
        call_sid: str,
        stream_sid: str,
        send_twilio: Callable[[str], Awaitable[None]],
        close_twilio: Callable[[], Awaitable[None]],
        open_session: Callable[[], Awaitable[tuple[RealtimeSession, str]]],
        services: CallServices,
        limits: BridgeLimits | None = None,
        recorder: Any = None,
        greet: bool = True,
    ) -> None:
        self.call_sid = call_sid
        self.stream_sid = stream_sid
        self._send_twilio = send_twilio
        self._close_twilio = close_twilio
        self._open_session = open_session
        self.services = services
        self.limits = limits or BridgeLimits()
        self.recorder = recorder
        self.greet = greet
        self.session: RealtimeSession | None = None
        self.provider = ""
        self.playout = _Playout()
        self.outcome: str | None = None
        self.state = "starting"  # starting -> live -> ending -> closed
        self.started_at = time.monotonic()
        self.last_activity = self.started_at
        self.idle_prompts = 0
        self.error_events = 0
        self.frames_in = 0
        self.frames_out = 0
        self._tasks: set[asyncio.Task] = set()
        self._tool_tasks: dict[str, list[asyncio.Task]] = {}
        self._truncated: set[str] = set()
        self._pending_action: tuple[str, str] | None = (
            None  # (action, reason) after the next response
        )
        self._action_mark: str | None = None
        # Per-call state is kept small (hundreds of calls share a process): the hand-off event
        # exists only once a hand-off is pending, records queue only while writes are pending,
        # and the timers are one timer handle, not a sleeping task.
        self._action_mark_echoed: asyncio.Event | None = None
        self._records: list[Awaitable[Any]] = []
        self._record_task: asyncio.Task | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_task: asyncio.Task | None = None
        self._records_closed = False
        self._closed = False
        self._twilio_open = True
        self._failed_reason: str | None = None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Open the realtime session and start the loops; failover to staff if it cannot open."""
        try:
            self.session, self.provider = await self._open_session()
        except (RealtimeError, OSError, TimeoutError) as exc:
            logger.warning(
                "voice.realtime.unavailable call_sid=%s error=%s", self.call_sid, type(exc).__name__
            )
            self._spawn(self._failover("realtime_unavailable"))
            return
        self.state = "live"
        logger.info("voice.bridge.live call_sid=%s provider=%s", self.call_sid, self.provider)
        self._spawn(self._realtime_reader())
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self.limits.tick_seconds, self._tick)
        self._enqueue_record(self.services.connected(provider=self.provider))
        if self.greet:
            await self._realtime_send({"type": "response.create"})

    async def close(self, *, outcome: str = "abandoned") -> None:
        """End the call: stop the loops and close the realtime socket at once, then the records."""
        if self._closed:
            return
        self._closed = True
        self._twilio_open = False
        self.outcome = self.outcome or outcome
        if self._timer is not None:
            self._timer.cancel()
        current = asyncio.current_task()
        records = self._record_task
        workers = [t for t in self._tasks if t is not current and t is not records]
        try:
            # The caller is gone: nothing more goes to or comes from the model, so the realtime
            # socket closes now, not after the record writes (which may queue behind other
            # calls' database work when many calls hang up together).
            for task in workers:
                task.cancel()
            for task in workers:
                with contextlib.suppress(BaseException):
                    await task
        finally:
            self.state = "closed"
            if self.session is not None:
                await self.session.close()
            # Let queued transcript writes land before the call record is closed.
            records = self._record_task
            if records is not None and not records.done():
                await asyncio.wait({records}, timeout=5)
                records.cancel()
                with contextlib.suppress(BaseException):
                    await records
            self._records_closed = True
            for coro in self._records:  # not written within the bound: dropped, as before
                getattr(coro, "close", lambda: None)()
            self._records.clear()
            try:
                await self.services.finish(outcome=self.outcome)
            except Exception as exc:
                logger.exception(
                    "voice.bridge.finish_failed call_sid=%s error=%s",
                    self.call_sid,
                    type(exc).__name__,
                )

            logger.info(
                "voice.bridge.closed call_sid=%s outcome=%s frames_in=%d frames_out=%d seconds=%.1f",
                self.call_sid,
                self.outcome,
                self.frames_in,
                self.frames_out,
                time.monotonic() - self.started_at,
            )

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- Twilio -> realtime ------------------------------------------------------------
    async def on_media(self, payload: str) -> None:
        """Forward one caller frame as it arrives (no buffering, no transcoding)."""
        self.frames_in += 1
        if self.recorder is not None:
            self.recorder.inbound(payload)
        if self.state != "live" or self.session is None:
            return
        try:  # noqa: SIM105 -- per-frame path: try/except is cheaper than contextlib.suppress
            await self.session.append_audio(payload)
        except RealtimeError:
            pass  # the reader sees the same failure and fails over once

    async def on_mark(self, name: str) -> None:
        """Twilio played our audio up to this mark."""
        self.playout.on_echo(name, time.monotonic())
        if name == self._action_mark and self._action_mark_echoed is not None:
            self._action_mark_echoed.set()

    async def on_dtmf(self, digit: str) -> None:
        """A key press: 0 asks for a person; other digits are not acted on (and not logged)."""
        self.last_activity = time.monotonic()
        logger.info("voice.bridge.dtmf call_sid=%s", self.call_sid)
        if digit == DIAL_OPERATOR_DIGIT and self.state == "live":
            await self._clear_twilio()
            self._spawn(self._transfer(reason="caller_request", say=None))

    async def on_stop(self) -> None:
        """Twilio ended the stream (caller hung up or the call was redirected)."""
        self._twilio_open = False
        if self.state in ("live", "starting"):
            self.outcome = self.outcome or "abandoned"
        self.state = "ending" if self.state != "closed" else self.state

    # -- realtime -> Twilio ------------------------------------------------------------
    async def _realtime_reader(self) -> None:
        if self.session is None:
            return
        try:
            while True:
                event = await self.session.recv()
                await self._dispatch(event)
        except asyncio.CancelledError:
            raise
        except RealtimeDisconnectedError:
            if self.state == "live":
                logger.warning("voice.realtime.disconnected call_sid=%s", self.call_sid)
                await self._failover("realtime_disconnected")
        except Exception as exc:
            logger.exception(
                "voice.realtime.reader_failed call_sid=%s error=%s",
                self.call_sid,
                type(exc).__name__,
            )
            if self.state == "live":
                await self._failover("realtime_failed")

    async def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "response.output_audio.delta":
            await self._on_audio_delta(event)
        elif kind == "input_audio_buffer.speech_started":
            self.last_activity = time.monotonic()
            await self._barge_in()
        elif kind == "response.output_audio.done":
            await self._flush_mark(event.get("item_id"))
        elif kind == "response.output_audio_transcript.done":
            self._transcript("agent", event.get("transcript"))
        elif kind == "conversation.item.input_audio_transcription.completed":
            self.last_activity = time.monotonic()
            self._transcript("caller", event.get("transcript"))
        elif kind == "response.function_call_arguments.done":
            self._start_tool(event)
        elif kind == "response.done":
            await self._on_response_done(event)
        elif kind == "error":
            await self._on_error(event)
        else:
            logger.debug("voice.realtime.event call_sid=%s type=%s", self.call_sid, kind)

    async def _on_audio_delta(self, event: dict[str, Any]) -> None:
        item_id = event.get("item_id")
        delta = event.get("delta")
        if not isinstance(item_id, str) or not isinstance(delta, str) or item_id in self._truncated:
            return  # audio of an interrupted item still in flight: the caller must not hear it
        if not self._twilio_open:
            return
        now = time.monotonic()
        self.last_activity = now
        await self._send_twilio(frames.build_media(self.stream_sid, delta))
        self.frames_out += 1
        if self.recorder is not None:
            self.recorder.outbound(delta)
        self.playout.on_sent(item_id, frames.payload_ms(delta), now)
        if self.playout.unmarked_ms >= MARK_EVERY_MS:
            await self._send_twilio(
                frames.build_mark(self.stream_sid, self.playout.next_mark(item_id))
            )

    async def _flush_mark(self, item_id: Any) -> None:
        if (
            isinstance(item_id, str)
            and self.playout.unmarked_ms > 0
            and item_id in self.playout.sent_ms
        ):
            await self._send_twilio(
                frames.build_mark(self.stream_sid, self.playout.next_mark(item_id))
            )

    async def _barge_in(self) -> None:
        """The caller started speaking: stop playback now and cut the item at what was heard."""
        now = time.monotonic()
        playout = self.playout
        playing = [
            item for item in playout.order if playout.played_ms(item, now) < playout.sent_ms[item]
        ]
        if not playing and not playout.pending:
            return
        heard_by_item = {item_id: playout.played_ms(item_id, now) for item_id in playing}
        await self._clear_twilio()
        for item_id in playing:
            heard = heard_by_item[item_id]
            self._truncated.add(item_id)
            await self._realtime_send(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": int(heard),
                }
            )
            logger.info(
                "voice.bridge.barge_in call_sid=%s item=%s audio_end_ms=%d",
                self.call_sid,
                item_id,
                heard,
            )
            break  # only the item being heard; later ones were never played
        for item_id in playing:
            self._truncated.add(item_id)
            playout.sent_ms.pop(item_id, None)
            with contextlib.suppress(ValueError):
                playout.order.remove(item_id)

    async def _clear_twilio(self) -> None:
        if self._twilio_open:
            await self._send_twilio(frames.build_clear(self.stream_sid))
        self.playout.clear()
        if self.recorder is not None:
            # The recording keeps what the caller heard, not what the model had queued.
            self.recorder.clear()

    async def _on_error(self, event: dict[str, Any]) -> None:
        error = event.get("error") if isinstance(event.get("error"), dict) else {}
        code = str(error.get("code") or error.get("type") or "unknown")[:64]
        self.error_events += 1
        logger.warning(
            "voice.realtime.error call_sid=%s code=%s count=%d",
            self.call_sid,
            code,
            self.error_events,
        )
        if code in FATAL_ERROR_CODES or self.error_events >= MAX_ERROR_EVENTS:
            await self._failover("realtime_error")

    # -- tools -------------------------------------------------------------------------
    def _start_tool(self, event: dict[str, Any]) -> None:
        name, call_id = event.get("name"), event.get("call_id")
        if not isinstance(name, str) or not isinstance(call_id, str):
            return
        arguments = event.get("arguments") if isinstance(event.get("arguments"), str) else "{}"
        logger.info(
            "voice.tool.call call_sid=%s tool=%s args_bytes=%d",
            self.call_sid,
            name[:64],
            len(arguments),
        )
        task = self._spawn(self._run_tool(name=name, call_id=call_id, arguments=arguments))
        self._tool_tasks.setdefault(str(event.get("response_id")), []).append(task)

    async def _run_tool(self, *, name: str, call_id: str, arguments: str) -> None:
        result = await self.services.run_tool(name=name, arguments=arguments)
        if result.action in ("transfer", "end_call") and self._pending_action is None:
            self._pending_action = (result.action, _transfer_reason(arguments))
        await self._realtime_send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": json.dumps(result.output, separators=(",", ":")),
                },
            }
        )

    async def _on_response_done(self, event: dict[str, Any]) -> None:
        response = event.get("response") if isinstance(event.get("response"), dict) else {}
        tools = self._tool_tasks.pop(str(response.get("id")), None)
        if tools:
            # One response.create once every tool of this response has answered.
            self._spawn(self._respond_after_tools(tools))
            return
        if self._pending_action is not None and self._action_mark is None:
            # The model has spoken its hand-off or goodbye line: act once the caller heard it.
            self._action_mark = f"action-{self.playout.seq + 1}"
            self._action_mark_echoed = asyncio.Event()
            if self._twilio_open:
                await self._send_twilio(frames.build_mark(self.stream_sid, self._action_mark))
            self._spawn(self._after_action_mark())

    async def _respond_after_tools(self, tools: list[asyncio.Task]) -> None:
        await asyncio.gather(*tools, return_exceptions=True)
        if self.state == "live":
            await self._realtime_send({"type": "response.create"})

    async def _after_action_mark(self) -> None:
        echoed = self._action_mark_echoed
        if echoed is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(echoed.wait(), HANDOFF_TIMEOUT_S)
        action, reason = self._pending_action or ("", "")
        self._pending_action = None
        self._action_mark = None
        self._action_mark_echoed = None
        if action == "transfer":
            await self._transfer(reason=reason or "caller_request", say=None)
        elif action == "end_call":
            await self._hang_up(outcome="completed")

    async def _transfer(self, *, reason: str, say: str | None) -> bool:
        """Redirect the call to staff; if Twilio refuses, let the agent take a message."""
        if self.state not in ("live", "starting"):
            return False
        self.state = "ending"
        ok = await self.services.transfer(reason=reason, say=say)
        logger.info("voice.bridge.transfer call_sid=%s reason=%s ok=%s", self.call_sid, reason, ok)
        if ok:
            self.outcome = "transferred"
            return True
        if self.session is not None and self._realtime_alive():
            self.state = "live"
            await self._realtime_send(
                {
                    "type": "response.create",
                    "response": {
                        "instructions": "The transfer to staff did not go through. Apologise and offer "
                        "to take a message with take_message so staff can call back."
                    },
                }
            )
            return False
        # No model to take a message: close the stream so Twilio runs the TwiML fallback.
        self.outcome = "failed"
        await self._hang_up(outcome="failed")
        return False

    def _realtime_alive(self) -> bool:
        return self.error_events < MAX_ERROR_EVENTS and self._failed_reason is None

    async def _failover(self, reason: str) -> None:
        """The model side is gone: apologise through Twilio and transfer to staff."""
        if self._failed_reason is not None or self.state in ("closed",):
            return
        self._failed_reason = reason
        logger.warning("voice.bridge.failover call_sid=%s reason=%s", self.call_sid, reason)
        if self._twilio_open:
            await self._clear_twilio()
        if self.state == "ending":
            return
        self.state = "live"  # allow _transfer from here
        await self._transfer(reason="other", say=APOLOGY)

    async def _hang_up(self, *, outcome: str) -> None:
        self.outcome = self.outcome or outcome
        self.state = "ending"
        if self._twilio_open:
            self._twilio_open = False
            await self._close_twilio()

    # -- timers and records ------------------------------------------------------------
    def _tick(self) -> None:
        """Every tick_seconds: the maximum call length and the idle caller (a timer callback)."""
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + self.limits.tick_seconds, self._tick)
        if self.state != "live" or (self._timer_task is not None and not self._timer_task.done()):
            return  # one timer action at a time, as when the timers were one loop
        now = time.monotonic()
        if now - self.started_at >= self.limits.max_call_seconds:
            logger.info("voice.bridge.max_length call_sid=%s", self.call_sid)
            self._timer_task = self._spawn(self._max_length_reached())
            return
        speaking = any(
            self.playout.played_ms(i, now) < self.playout.sent_ms[i] for i in self.playout.order
        )
        if speaking or self._tool_tasks or now - self.last_activity < self.limits.idle_seconds:
            return
        self.last_activity = now
        self.idle_prompts += 1
        if self.idle_prompts == 1:
            logger.info("voice.bridge.idle_prompt call_sid=%s", self.call_sid)
            self._timer_task = self._spawn(
                self._realtime_send(
                    {"type": "response.create", "response": {"instructions": IDLE_PROMPT}}
                )
            )
        else:
            logger.info("voice.bridge.idle_hangup call_sid=%s", self.call_sid)
            self._timer_task = self._spawn(self._hang_up(outcome="abandoned"))

    async def _max_length_reached(self) -> None:
        await self._clear_twilio()
        await self._transfer(
            reason="other",
            say="We have reached the time limit for this call. Let me put you through to our team.",
        )

    def _transcript(self, role: str, text: Any) -> None:
        if isinstance(text, str) and text.strip():
            logger.info(
                "voice.transcript call_sid=%s role=%s chars=%d", self.call_sid, role, len(text)
            )
            self._enqueue_record(self.services.transcript(role=role, text=text))

    def _enqueue_record(self, coro: Awaitable[Any]) -> None:
        if self._records_closed:
            getattr(coro, "close", lambda: None)()
            return
        self._records.append(coro)
        if self._record_task is None or self._record_task.done():
            self._record_task = self._spawn(self._record_worker())

    async def _record_worker(self) -> None:
        """Writes records in order, off the audio path; ends when none are pending."""
        records = self._records
        while records:
            coro = records.pop(0)
            try:
                await coro
            except Exception as exc:
                logger.exception(
                    "voice.bridge.record_failed call_sid=%s error=%s",
                    self.call_sid,
                    type(exc).__name__,
                )

    async def _realtime_send(self, event: dict[str, Any]) -> None:
        if self.session is None:
            return
        try:
            await self.session.send(event)
        except RealtimeError:
            logger.warning(
                "voice.realtime.send_failed call_sid=%s type=%s", self.call_sid, event.get("type")
            )


def _transfer_reason(arguments: str) -> str:
    """The reason code the model gave transfer_to_staff (the service maps unknown ones)."""
    try:
        reason = json.loads(arguments).get("reason")
    except (ValueError, AttributeError):
        return "caller_request"
    return reason[:64] if isinstance(reason, str) and reason else "caller_request"
