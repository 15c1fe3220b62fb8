"""HTTP routes of the voice receptionist (Twilio webhooks)."""

app_name = "voiceagent"
urlpatterns: list = []
