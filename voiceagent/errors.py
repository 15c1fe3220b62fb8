"""Errors of the voice receptionist: one base class, one subclass per failure a caller can cause.

Messages name the call (CallSid) or the rule that failed, never a caller's number or any PHI.
"""


class VoiceAgentError(Exception):
    """Base class of every voice receptionist error."""


class StreamTokenError(VoiceAgentError):
    """A media-stream token is unknown, expired, already used or bound to another call."""


class SignatureError(VoiceAgentError):
    """A Twilio request carries no valid X-Twilio-Signature for the configured public URL."""


class VoiceNotConfiguredError(VoiceAgentError):
    """Twilio credentials or the public base URL are missing, so the feature is off."""


class TransferError(VoiceAgentError):
    """Twilio refused or failed to redirect a live call to the practice's line."""


class CallNotFoundError(VoiceAgentError):
    """No Call row exists for the given id or CallSid."""


class RecordingError(VoiceAgentError):
    """A call recording could not be written or read back."""
