"""HTTP routes of the voice receptionist (Twilio webhooks)."""

from django.urls import path

from voiceagent.twilio import webhooks

app_name = "voiceagent"
urlpatterns = [
    path("twilio/incoming/", webhooks.twilio_incoming, name="twilio-incoming"),
    path("twilio/status/", webhooks.twilio_status, name="twilio-status"),
]
