"""WebSocket routes of the voice receptionist (Twilio media streams)."""

websocket_urlpatterns: list = []
