"""Realtime speech-model providers (OpenAI, Azure OpenAI) behind one session interface."""

from voiceagent.realtime.base import (
    RealtimeDisconnectedError,
    RealtimeError,
    RealtimeProvider,
    RealtimeSession,
    SessionConfig,
    provider_for,
    session_update_event,
)

__all__ = [
    "RealtimeDisconnectedError",
    "RealtimeError",
    "RealtimeProvider",
    "RealtimeSession",
    "SessionConfig",
    "provider_for",
    "session_update_event",
]
