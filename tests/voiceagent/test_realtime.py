"""Realtime providers: one contract, run against the fake GA server by OpenAI and Azure alike."""

import asyncio
import socket

import pytest

from tests.fakes.realtime_server import FakeRealtimeServer, validate_client_event
from voiceagent.realtime import (
    RealtimeDisconnectedError,
    RealtimeError,
    SessionConfig,
    provider_for,
)
from voiceagent.realtime.base import audio_append_text, session_update_event

CONFIG = SessionConfig(
    model="gpt-realtime",
    instructions="You are a receptionist.",
    tools=[
        {
            "type": "function",
            "name": "practice_info",
            "description": "Hours.",
            "parameters": {"type": "object", "properties": {}},
        }
    ],
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RealtimeProviderContract:
    """Behaviour every realtime provider must show.

    Subclasses define `make_provider(base_url)`, building their provider against the fake server.
    """

    async def test_open_configures_pcmu_session_the_sdk_types_accept(self):
        async with FakeRealtimeServer() as server:
            session = await self.make_provider(server.url).open(CONFIG)
            assert (await session.recv())["type"] == "session.updated"
            conn = server.connections[0]
            assert conn.session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
            assert conn.session["audio"]["output"]["format"] == {"type": "audio/pcmu"}
            assert conn.session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
            assert conn.session["tools"][0]["name"] == "practice_info"
            assert server.invalid_events == []
            await session.close()

    async def test_audio_and_control_events_reach_the_server_valid(self):
        async def script(conn):
            await conn.wait_for("response.create")
            await conn.say("hello", audio_ms=40, chunk_ms=20)

        async with FakeRealtimeServer() as server:
            server.push_script(script)
            session = await self.make_provider(server.url).open(CONFIG)
            await session.append_audio("////")
            await session.send({"type": "response.create"})
            types = [(await session.recv())["type"] for _ in range(7)]
            assert types.count("response.output_audio.delta") == 2
            assert "response.done" in types
            assert server.connections[0].appended_frames == 1
            assert server.invalid_events == []
            await session.close()

    async def test_close_leaves_no_connection_open(self):
        async with FakeRealtimeServer() as server:
            session = await self.make_provider(server.url).open(CONFIG)
            await session.close()
            await session.close()  # idempotent
            await asyncio.sleep(0.05)
            assert server.open_connections == 0

    async def test_server_drop_raises_disconnected(self):
        async def script(conn):
            await conn.wait_for("response.create")
            await conn.drop()

        async with FakeRealtimeServer() as server:
            server.push_script(script)
            session = await self.make_provider(server.url).open(CONFIG)
            assert (await session.recv())["type"] == "session.updated"
            await session.send({"type": "response.create"})
            with pytest.raises(RealtimeDisconnectedError):
                await session.recv()
            await session.close()

    async def test_unreachable_provider_raises_realtime_error(self):
        port = _free_port()
        with pytest.raises(RealtimeError):
            await self.make_provider(f"ws://127.0.0.1:{port}/v1").open(CONFIG)


class TestOpenAIProvider(RealtimeProviderContract):
    def make_provider(self, base_url):
        return provider_for("openai", api_key="test-key", websocket_base_url=base_url)


class TestAzureOpenAIProvider(RealtimeProviderContract):
    def make_provider(self, base_url):
        return provider_for(
            "azure-openai",
            api_key="test-key",
            azure_endpoint="https://example.openai.azure.com",
            websocket_base_url=base_url.replace("/v1", "/openai"),
        )


def test_unknown_provider_name_is_refused():
    with pytest.raises(ValueError, match="unknown realtime provider"):
        provider_for("acme")


@pytest.mark.parametrize("mode", ["server_vad", "semantic_vad"])
def test_session_update_is_a_valid_client_event(mode):
    config = SessionConfig(model="gpt-realtime", instructions="x", turn_detection=mode)
    event = session_update_event(config)
    assert validate_client_event(event) is None
    assert event["session"]["audio"]["input"]["turn_detection"]["type"] == mode


def test_audio_append_template_is_a_valid_client_event():
    import json

    assert validate_client_event(json.loads(audio_append_text("AAAA"))) is None


def test_fake_server_rejects_unknown_fields_and_types():
    assert validate_client_event({"type": "response.create", "bogus": 1}) is not None
    assert validate_client_event({"type": "conversation.item.truncate", "item_id": "x"}) is not None
    assert validate_client_event({"type": "input_audio_buffer.append", "audio": "!!"}) is not None
