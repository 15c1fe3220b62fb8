"""The Twilio media-stream WebSocket consumer: authenticate, parse, route frames to the bridge.

Invariants:
- The upgrade is refused (HTTP 403) unless X-Twilio-Signature is Twilio's signature of our
  public wss URL (Twilio signs it with no parameters); the route sits outside the browser
  origin validator because Twilio sends no Origin.
- Nothing but `connected` may precede `start`, and `start` must carry a stream token that
  redeems for this CallSid (single use, short-lived); otherwise the socket is closed.
- Frames larger than 64 KiB, malformed JSON and unknown events close this socket only.
- `disconnect` always closes the bridge, which cancels and awaits every task it started.
- No per-frame work beyond parsing: frames are dispatched straight from Daphne's queue, without
  Channels' per-message `close_old_connections` hop to the shared sync thread (that hop queued
  every 20 ms frame of every call behind the database work of call set-up and hang-up, which
  delayed audio by seconds at 50 calls) and without a channel layer (nothing is ever sent to a
  call's channel). Database work goes through `database_sync_to_async`, which closes stale
  connections itself.
"""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from phi.logging import log_ids_bind
from phi.redaction.context import redaction_scope
from voiceagent.bridge import BridgeLimits, CallBridge
from voiceagent.call_services import DjangoCallServices, open_practice_session, recorder_for
from voiceagent.errors import StreamTokenError
from voiceagent.tools import CallState
from voiceagent.twilio import frames
from voiceagent.twilio.signature import public_url, validate_twilio_signature
from voiceagent.twilio.tokens import stream_token_redeem

logger = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
# Application close codes (autobahn, under Daphne, only sends 1000 or 3000-4999).
CLOSE_POLICY = 4403  # bad token or protocol misuse
CLOSE_TOO_BIG = 4413  # frame over MAX_FRAME_BYTES
CLOSE_INVALID = 4400  # not JSON or not a Twilio event


class MediaStreamConsumer(AsyncWebsocketConsumer):
    """One Twilio media stream (one call)."""

    bridge: CallBridge | None = None
    recorder: Any = None
    stream_sid: str = ""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Serve one stream: each message from Daphne is handled in order, as it arrives."""
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        # One redaction scope per call: once the caller is verified, their own values are
        # masked in every log line of this call, in every task the bridge starts.
        with redaction_scope():
            try:
                while True:
                    await self.dispatch(await receive())
            except StopConsumer:
                pass

    async def dispatch(self, message: dict) -> None:
        """Frames go straight to `receive`; connect and disconnect take Channels' path."""
        if message["type"] == "websocket.receive":
            text = message.get("text")
            await self.receive(
                text_data=text, bytes_data=None if text is not None else message.get("bytes")
            )
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        """Accept only an upgrade signed by Twilio for our public stream URL."""
        headers = dict(self.scope.get("headers") or [])
        signature = headers.get(b"x-twilio-signature", b"").decode("latin-1")
        url = public_url(self.scope["path"], websocket=True)
        if not validate_twilio_signature(url=url, params={}, signature=signature):
            logger.warning("voice.stream.rejected reason=signature signed=%s", bool(signature))
            await self.close()  # before accept: Daphne answers the upgrade with 403
            return
        await self.accept()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Parse one frame and hand it to the bridge."""
        data = text_data if text_data is not None else bytes_data
        if data is None or len(data) > MAX_FRAME_BYTES:
            logger.warning("voice.stream.rejected reason=frame_size bytes=%d", len(data or ""))
            await self._reject(CLOSE_TOO_BIG)
            return
        try:
            frame = frames.parse_frame(data)
        except frames.FrameError as exc:
            logger.warning("voice.stream.rejected reason=malformed detail=%s", exc)
            await self._reject(CLOSE_INVALID)
            return
        bridge = self.bridge
        if bridge is not None and frame.__class__ is frames.Media:
            await bridge.on_media(frame.payload)  # hot path first
            return
        if isinstance(frame, frames.Connected):
            return
        if isinstance(frame, frames.Start):
            await self._start(frame)
            return
        if bridge is None:
            logger.warning("voice.stream.rejected reason=before_start")
            await self._reject(CLOSE_POLICY)
            return
        if frame.stream_sid != self.stream_sid:
            logger.warning("voice.stream.rejected reason=stream_sid call_sid=%s", bridge.call_sid)
            await self._reject(CLOSE_POLICY)
        elif isinstance(frame, frames.Mark):
            await bridge.on_mark(frame.name)
        elif isinstance(frame, frames.Dtmf):
            await bridge.on_dtmf(frame.digit)
        elif isinstance(frame, frames.Stop):
            await bridge.on_stop()
            await self.close()
            # Hang-up frees the realtime session now, not when the close handshake completes.
            await self._end_call(outcome="abandoned")

    async def _start(self, frame: frames.Start) -> None:
        if self.bridge is not None:
            await self._reject(CLOSE_POLICY)
            return
        try:
            grant = await database_sync_to_async(stream_token_redeem)(
                token=frame.custom_parameters.get("token", ""), call_sid=frame.call_sid
            )
        except StreamTokenError:
            logger.warning("voice.stream.rejected reason=token call_sid=%s", frame.call_sid)
            await self._reject(CLOSE_POLICY)
            return
        self.stream_sid = frame.stream_sid
        log_ids_bind(call_id=frame.call_sid)
        state = CallState(
            call_sid=frame.call_sid, practice_id=grant.practice_id, call_id=grant.call_id
        )
        recorder = await database_sync_to_async(recorder_for)(
            practice_id=grant.practice_id, call_id=grant.call_id
        )
        self.bridge = CallBridge(
            call_sid=frame.call_sid,
            stream_sid=frame.stream_sid,
            send_twilio=self._send_text,
            close_twilio=self.close,
            open_session=lambda: open_practice_session(grant.practice_id),
            services=DjangoCallServices(state),
            limits=BridgeLimits(
                idle_seconds=settings.VOICE_IDLE_SECONDS,
                max_call_seconds=settings.VOICE_MAX_CALL_SECONDS,
            ),
            recorder=recorder,
        )
        self.recorder = recorder
        logger.info("voice.stream.start call_sid=%s", frame.call_sid)
        await self.bridge.start()

    async def _send_text(self, text: str) -> None:
        await self.base_send({"type": "websocket.send", "text": text})

    async def _reject(self, code: int) -> None:
        await self.close(code=code)
        if self.bridge is not None:
            await self._end_call(outcome="failed")

    async def disconnect(self, code: int) -> None:
        """The socket is gone: stop the bridge and everything it started."""
        bridge = self.bridge
        if bridge is None:
            return
        try:
            await bridge.on_stop()
        finally:
            await self._end_call(outcome="abandoned")

    async def _end_call(self, *, outcome: str) -> None:
        """Close the bridge (idempotent), then store the call's recording once, if any."""
        await self.bridge.close(outcome=outcome)
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        try:
            await database_sync_to_async(recorder.save)()
        except Exception as exc:  # the call record stands; the failure is visible in the logs
            logger.exception(
                "voice.recording.save_failed call_sid=%s error=%s",
                self.bridge.call_sid,
                type(exc).__name__,
            )
