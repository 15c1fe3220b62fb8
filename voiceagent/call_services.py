"""The bridge's records side backed by Django: voiceagent.services and tools, off the event loop.

Invariant: every database call runs through `database_sync_to_async`, so the audio path of
other calls sharing the process never waits on a query; this adapter holds the call's
server-side `CallState` (the verified patient lives here, never in the model's hands).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async

from voiceagent import services, tools
from voiceagent.realtime import azure, openai  # noqa: F401 -- import (and register) at startup
from voiceagent.realtime.base import RealtimeError, RealtimeSession, SessionConfig, provider_for
from voiceagent.recording import call_recorder_open
from voiceagent.selectors import practice_voice_config, voice_agent_availability

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 10.0


class DjangoCallServices:
    """`CallServices` for one call, writing through voiceagent.services."""

    def __init__(self, state: tools.CallState) -> None:
        self.state = state

    async def connected(self, *, provider: str) -> None:
        """Mark the call connected to its realtime provider."""
        await database_sync_to_async(services.call_connected)(
            call_id=self.state.call_id, provider=provider
        )

    async def transcript(self, *, role: str, text: str) -> None:
        """Store one transcript turn (encrypted by the model field)."""
        await database_sync_to_async(services.transcript_turn_add)(
            call_id=self.state.call_id, role=role, text=text
        )

    async def run_tool(self, *, name: str, arguments: str) -> Any:
        """Run a tool on the server-side call state (audited by the tools module)."""
        return await tools.run_tool(state=self.state, name=name, arguments=arguments)

    async def transfer(self, *, reason: str, say: str | None = None) -> bool:
        """Redirect the call to the practice's line with Twilio REST."""
        return await database_sync_to_async(services.call_transfer)(
            call_id=self.state.call_id, reason=reason, say=say
        )

    async def finish(self, *, outcome: str) -> None:
        """Close the call record with its outcome."""
        await database_sync_to_async(services.call_finish)(
            call_id=self.state.call_id, outcome=outcome
        )


def _open_session_sync_parts(practice_id: Any) -> tuple[Any, Any]:
    config = practice_voice_config(practice_id=practice_id)
    return config, voice_agent_availability(config)


async def open_practice_session(
    practice_id: Any, **provider_kwargs: Any
) -> tuple[RealtimeSession, str]:
    """Open the practice's realtime session; RealtimeError if it may not or cannot be opened."""
    config, availability = await database_sync_to_async(_open_session_sync_parts)(practice_id)
    if not availability.available:
        # Strict BAA mode, agent switched off, provider not configured: staff take the call.
        raise RealtimeError(f"realtime session refused: {availability.reason}")
    provider = provider_for(config.provider, **provider_kwargs)
    session_config = SessionConfig(
        model=config.model,
        instructions=config.instructions,
        voice=config.voice,
        turn_detection=config.turn_detection,
        tools=list(tools.TOOL_DEFINITIONS),
    )
    try:
        session = await asyncio.wait_for(provider.open(session_config), CONNECT_TIMEOUT_S)
    except TimeoutError as exc:
        raise RealtimeError(f"{config.provider} realtime connect timed out") from exc
    return session, config.provider


def recorder_for(*, practice_id: Any, call_id: Any) -> Any:
    """The call's WAV recorder if the practice records calls, else None (sync)."""
    return call_recorder_open(practice_id=practice_id, call_id=call_id)
