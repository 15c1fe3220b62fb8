"""The production channel layer: Redis with symmetric encryption, so no PHI rests in Redis."""

import os

import pytest

pytestmark = pytest.mark.redis


async def test_redis_layer_round_trips_messages_and_stores_only_ciphertext():
    import redis.asyncio as redis_asyncio
    from channels_redis.core import RedisChannelLayer

    url = os.environ["REDIS_URL"]
    layer = RedisChannelLayer(
        hosts=[url], prefix="clarion-test", symmetric_encryption_keys=["test-key-" + "x" * 24]
    )
    channel = await layer.new_channel()
    message = {"type": "call.note", "text": "synthetic caller Zephyrine Testperson"}
    await layer.send(channel, message)

    client = redis_asyncio.from_url(url)
    try:
        stored = b""
        async for key in client.scan_iter(match="clarion-test*"):
            if await client.type(key) == b"zset":
                for member in await client.zrange(key, 0, -1):
                    stored += member
            elif await client.type(key) == b"string":
                stored += await client.get(key) or b""
        assert stored, "the message should be waiting in Redis"
        assert b"Zephyrine" not in stored
    finally:
        await client.aclose()

    received = await layer.receive(channel)
    assert received == message
    await layer.flush()
