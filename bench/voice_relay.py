"""The bare relay baseline for bench_voice: Twilio media stream <-> realtime, no logic at all.

A raw ASGI app (no Channels consumer, no auth, no marks, no state machine) served by the same
Daphne, talking to the same fake servers: caller frames become `input_audio_buffer.append`,
audio deltas become Twilio media. Whatever our bridge costs beyond this is its own overhead.
The serving stack gets the same tuning as config.asgi applies (voiceagent.serving), so both
run on the same Daphne.
"""

import asyncio
import contextlib
import json
import os

from websockets.asyncio.client import connect

from voiceagent.serving import tune_serving_stack

tune_serving_stack()


async def application(scope, receive, send):
    """ASGI websocket app: relay one call."""
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    base = os.environ["OPENAI_BASE_URL"].replace("http://", "ws://")
    upstream = await connect(f"{base}/realtime?model=gpt-realtime", compression=None, max_size=None)
    await upstream.send(
        json.dumps(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "audio": {
                        "input": {"format": {"type": "audio/pcmu"}},
                        "output": {"format": {"type": "audio/pcmu"}},
                    },
                },
            }
        )
    )
    stream_sid = ""

    async def downstream() -> None:
        async for message in upstream:
            event = json.loads(message)
            if event.get("type") == "response.output_audio.delta" and stream_sid:
                text = f'{{"event":"media","streamSid":"{stream_sid}","media":{{"payload":"{event["delta"]}"}}}}'
                await send({"type": "websocket.send", "text": text})

    task = asyncio.create_task(downstream())
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                break
            frame = json.loads(message.get("text") or message.get("bytes"))
            if frame.get("event") == "media":
                await upstream.send(
                    f'{{"type":"input_audio_buffer.append","audio":"{frame["media"]["payload"]}"}}'
                )
            elif frame.get("event") == "start":
                stream_sid = frame["start"]["streamSid"]
            elif frame.get("event") == "stop":
                break
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await upstream.close()
