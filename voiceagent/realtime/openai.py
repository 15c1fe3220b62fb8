"""OpenAI Realtime (GA interface) through `AsyncOpenAI().realtime.connect`.

The SDK reads OPENAI_API_KEY and OPENAI_BASE_URL itself; pointing OPENAI_BASE_URL at a local
server (http://127.0.0.1:port/v1) redirects the websocket too, which is how tests and benchmarks
reach the fake realtime server. Keyword arguments override them (tests pass websocket_base_url).

The SDK's realtime resources and event types are imported here, at startup, not at the first
call: config.asgi freezes what is loaded by then out of the garbage collector's full passes.
"""

from typing import Any

from openai import AsyncOpenAI, OpenAIError
from openai.resources.realtime import realtime as _sdk_realtime  # noqa: F401 -- see the docstring

from voiceagent.realtime.base import (
    WEBSOCKET_OPTIONS,
    RealtimeError,
    RealtimeProvider,
    RealtimeSession,
    SessionConfig,
    open_sdk_session,
    register,
    sdk_client,
)


@register
class OpenAIRealtimeProvider(RealtimeProvider):
    """api.openai.com (or OPENAI_BASE_URL) realtime sessions."""

    name = "openai"

    def __init__(self, **client_kwargs: Any) -> None:
        self._client_kwargs = client_kwargs

    async def open(self, config: SessionConfig) -> RealtimeSession:
        """Connect to the realtime endpoint for `config.model` and configure the session."""
        try:
            client = sdk_client(AsyncOpenAI, **self._client_kwargs)
        except OpenAIError as exc:  # no API key configured
            raise RealtimeError("openai realtime is not configured") from exc
        manager = client.realtime.connect(
            model=config.model, websocket_connection_options=WEBSOCKET_OPTIONS
        )
        return await open_sdk_session(manager, config, provider=self.name)
