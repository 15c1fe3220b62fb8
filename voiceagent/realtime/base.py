"""Realtime provider interface, the session configuration builder and the provider registry.

Invariant: the bridge talks to every provider through `RealtimeSession` only, and every event a
session sends is a client event the openai SDK's own types accept (control events go through the
SDK's typed `send`; audio appends are one fixed template of `input_audio_buffer.append`).
Server events come back as plain dicts parsed from the wire, because building a pydantic model
for each 20 ms audio delta costs more than the rest of the bridge; the bridge reads only the
fields it needs. Transcripts inside events are never logged here: logs hold types, ids, sizes.

Per call, nothing is rebuilt that can be shared: one SDK client per configuration (building one
loads the TLS trust store, 10-20 ms of CPU that stalled every other call's audio at set-up).
Per frame, audio appends go straight to the websocket (the SDK's send wrapper adds a send queue
and receipt for reconnects we do not use); closing is bounded so hang-up frees the socket fast.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from voiceagent.errors import VoiceAgentError

logger = logging.getLogger(__name__)

TURN_DETECTION_MODES = ("server_vad", "semantic_vad")
AUDIO_FORMAT = {"type": "audio/pcmu"}  # G.711 mu-law 8 kHz: what Twilio sends and plays
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
CLOSE_TIMEOUT_S = 2.0  # longest wait for the provider's close handshake before dropping TCP
# Passed to the SDK's websocket connect: a bounded close handshake, and no compression (mu-law
# does not compress and deflate would cost CPU on every frame).
WEBSOCKET_OPTIONS = {"close_timeout": CLOSE_TIMEOUT_S, "compression": None}
_CLIENTS: dict[tuple, Any] = {}


class RealtimeError(VoiceAgentError):
    """The realtime provider could not be reached or refused the session."""


class RealtimeDisconnectedError(RealtimeError):
    """The realtime connection closed while the call was still live."""


@dataclass(frozen=True)
class SessionConfig:
    """What a call's realtime session is told in `session.update`."""

    model: str
    instructions: str
    voice: str = "marin"
    turn_detection: str = "server_vad"
    tools: list[dict[str, Any]] = field(default_factory=list)
    transcription_model: str = "gpt-4o-mini-transcribe"
    # server_vad only: how long a pause ends the caller's turn.
    silence_duration_ms: int = 500

    def __post_init__(self) -> None:
        if self.turn_detection not in TURN_DETECTION_MODES:
            raise ValueError(f"turn_detection must be one of {TURN_DETECTION_MODES}")


def session_update_event(config: SessionConfig) -> dict[str, Any]:
    """The `session.update` client event for a phone call (mu-law both ways, VAD, tools)."""
    if config.turn_detection == "semantic_vad":
        turn_detection: dict[str, Any] = {
            "type": "semantic_vad",
            "create_response": True,
            "interrupt_response": True,
        }
    else:
        turn_detection = {
            "type": "server_vad",
            "create_response": True,
            "interrupt_response": True,
            "silence_duration_ms": config.silence_duration_ms,
        }
    return {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "model": config.model,
            "instructions": config.instructions,
            "output_modalities": ["audio"],
            "audio": {
                "input": {
                    "format": AUDIO_FORMAT,
                    "turn_detection": turn_detection,
                    "transcription": {"model": config.transcription_model},
                },
                "output": {"format": AUDIO_FORMAT, "voice": config.voice},
            },
            "tools": config.tools,
            "tool_choice": "auto",
        },
    }


def audio_append_text(payload: str) -> str:
    """Serialized `input_audio_buffer.append` for one base64 mu-law chunk (the hot path)."""
    # Formatting beats json.dumps and the SDK's transform by an order of magnitude per frame;
    # the payload is checked base64 upstream (frames.parse_frame), so it cannot inject JSON.
    return f'{{"type":"input_audio_buffer.append","audio":"{payload}"}}'


def sdk_client(factory: Callable[..., Any], **kwargs: Any) -> Any:
    """The SDK client for this configuration, built once per process and shared by all calls."""
    key = (
        factory,
        os.environ.get("OPENAI_API_KEY"),
        os.environ.get("OPENAI_BASE_URL"),
        tuple(sorted((name, repr(value)) for name, value in kwargs.items())),
    )
    client = _CLIENTS.get(key)
    if client is None:
        if len(_CLIENTS) >= 16:  # configuration changed many times (tests): start over
            _CLIENTS.clear()
        client = _CLIENTS[key] = factory(**kwargs)
    return client


class RealtimeSession(ABC):
    """One live realtime conversation: send client events, receive server events, close."""

    @abstractmethod
    async def send(self, event: dict[str, Any]) -> None:
        """Send one client event (validated against the SDK's client event types)."""

    @abstractmethod
    async def append_audio(self, payload: str) -> None:
        """Send one chunk of caller audio (base64 mu-law) as `input_audio_buffer.append`."""

    @abstractmethod
    async def recv(self) -> dict[str, Any]:
        """Next server event as a dict; raise RealtimeDisconnectedError when the socket closes."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connection (idempotent)."""


class RealtimeProvider(ABC):
    """A realtime speech model vendor (its processor name is looked up in the BAA registry)."""

    name: str

    @abstractmethod
    async def open(self, config: SessionConfig) -> RealtimeSession:
        """Connect and configure a session; raise RealtimeError if the provider is unavailable."""


class SdkRealtimeSession(RealtimeSession):
    """A session over the openai SDK's `AsyncRealtimeConnection` (OpenAI and Azure alike)."""

    def __init__(self, connection: Any, *, provider: str) -> None:
        self._connection = connection
        self._provider = provider
        self._closed = False
        # The SDK's underlying websockets connection carries the per-frame traffic (see the
        # module docstring); the SDK's own methods if this SDK version keeps it elsewhere.
        ws = getattr(connection, "_connection", None)
        if getattr(ws, "request", None) is not None:
            # The opening handshake's request (the SDK's two dozen headers, ~1.5 KB per call)
            # is not read again by a websockets client connection once it is open.
            ws.request = None
        direct = callable(getattr(ws, "send", None)) and callable(getattr(ws, "recv", None))
        self._send_audio = ws.send if direct else connection.send_raw
        self._recv_bytes = (
            functools.partial(ws.recv, decode=False) if direct else connection.recv_bytes
        )

    async def send(self, event: dict[str, Any]) -> None:
        """Send one client event through the SDK's typed `send`."""
        await self._guard(self._connection.send(event))
        logger.debug("realtime sent type=%s provider=%s", event.get("type"), self._provider)

    async def append_audio(self, payload: str) -> None:
        """Send caller audio without per-frame model construction."""
        try:
            await self._send_audio(audio_append_text(payload))
        except (ConnectionClosed, OSError) as exc:
            raise RealtimeDisconnectedError(f"{self._provider} connection closed") from exc

    async def recv(self) -> dict[str, Any]:
        """Receive and parse the next server event."""
        try:
            event = json.loads(await self._recv_bytes())
        except ConnectionClosed as exc:
            raise RealtimeDisconnectedError(f"{self._provider} connection closed") from exc
        except OSError as exc:
            raise RealtimeDisconnectedError(f"{self._provider} connection failed") from exc
        except ValueError as exc:
            raise RealtimeError(f"{self._provider} sent a frame that is not JSON") from exc
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise RealtimeError(f"{self._provider} sent an event without a type")
        return event

    async def close(self) -> None:
        """Close the websocket; safe to call twice or after the server went away."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.wait_for(self._connection.close(), CLOSE_TIMEOUT_S)
        except Exception:  # the peer may already be gone or hung; closing must never raise
            logger.debug("realtime close after peer loss provider=%s", self._provider)
            transport = getattr(getattr(self._connection, "_connection", None), "transport", None)
            if transport is not None:
                transport.abort()

    async def _guard(self, awaitable: Any) -> Any:
        try:
            return await awaitable
        except ConnectionClosed as exc:
            raise RealtimeDisconnectedError(f"{self._provider} connection closed") from exc
        except OSError as exc:
            raise RealtimeDisconnectedError(f"{self._provider} connection failed") from exc


async def open_sdk_session(
    manager: Any, config: SessionConfig, *, provider: str
) -> SdkRealtimeSession:
    """Enter an SDK connection manager, send `session.update`, and wrap it."""
    from websockets.exceptions import InvalidHandshake, WebSocketException

    try:
        connection = await manager.enter()
    except (OSError, InvalidHandshake, WebSocketException, TimeoutError) as exc:
        raise RealtimeError(f"{provider} realtime connection failed: {type(exc).__name__}") from exc
    session = SdkRealtimeSession(connection, provider=provider)
    try:
        await session.send(session_update_event(config))
    except BaseException:
        await session.close()
        raise
    return session


PROVIDERS: dict[str, type[RealtimeProvider]] = {}


def register(cls: type[RealtimeProvider]) -> type[RealtimeProvider]:
    """Class decorator: make a provider selectable by its name in a practice's voice config."""
    PROVIDERS[cls.name] = cls
    return cls


def provider_for(name: str, **kwargs: Any) -> RealtimeProvider:
    """The provider registered under `name` ("openai" or "azure-openai")."""
    # Import the implementations so their @register runs.
    from voiceagent.realtime import azure, openai  # noqa: F401

    try:
        cls = PROVIDERS[name]
    except KeyError:
        raise ValueError(
            f"unknown realtime provider {name!r}; known: {sorted(PROVIDERS)}"
        ) from None
    return cls(**kwargs)
