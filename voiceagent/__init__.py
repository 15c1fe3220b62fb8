"""The phone receptionist: Twilio Media Streams bridged to a realtime speech model."""
