"""WebSocket routes of the voice receptionist (Twilio media streams).

Served by config.asgi outside the browser-origin validator: Twilio sends no Origin header and is
authenticated by signature and single-use token instead (see voiceagent.consumers).
"""

from django.urls import path

from voiceagent.consumers import MediaStreamConsumer

STREAM_PATH = "voice/twilio/stream/"

websocket_urlpatterns: list = [
    path(STREAM_PATH, MediaStreamConsumer.as_asgi(), name="voice-twilio-stream"),
]
