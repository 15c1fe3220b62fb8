"""Azure OpenAI Realtime through `AsyncAzureOpenAI().realtime.connect` (deployment = model).

Configured by AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY, AZURE_OPENAI_API_VERSION and
AZURE_OPENAI_REALTIME_DEPLOYMENT; keyword arguments override them (tests pass a local
websocket_base_url, because the SDK otherwise forces wss:// on the endpoint).
"""

from typing import Any

from django.conf import settings
from openai import AsyncAzureOpenAI, OpenAIError

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
class AzureOpenAIRealtimeProvider(RealtimeProvider):
    """Azure OpenAI realtime deployments (a BAA-covered processor when the tenant has one)."""

    name = "azure-openai"

    def __init__(self, **client_kwargs: Any) -> None:
        self._client_kwargs = client_kwargs

    async def open(self, config: SessionConfig) -> RealtimeSession:
        """Connect to the practice's Azure deployment and configure the session."""
        kwargs: dict[str, Any] = {
            "azure_endpoint": settings.AZURE_OPENAI_ENDPOINT or None,
            "api_key": settings.AZURE_OPENAI_API_KEY or None,
            "api_version": settings.AZURE_OPENAI_API_VERSION,
            **self._client_kwargs,
        }
        if not kwargs["azure_endpoint"]:
            raise RealtimeError("azure-openai realtime is not configured (AZURE_OPENAI_ENDPOINT)")
        try:
            client = sdk_client(AsyncAzureOpenAI, **kwargs)
        except OpenAIError as exc:
            raise RealtimeError("azure-openai realtime is not configured") from exc
        deployment = settings.AZURE_OPENAI_REALTIME_DEPLOYMENT or config.model
        manager = client.realtime.connect(
            model=deployment, websocket_connection_options=WEBSOCKET_OPTIONS
        )
        return await open_sdk_session(manager, config, provider=self.name)
