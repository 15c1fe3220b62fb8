"""Twilio edges of the receptionist: webhook signatures, stream tokens, TwiML and REST actions."""
