"""Twilio REST actions on live calls (transfer to staff).

Invariant: the REST call runs outside any database transaction and raises TransferError on
every failure (HTTP error, network error, missing credentials), so the caller can fall back
to taking a message. Logs carry the CallSid and status code, never a caller's number.
"""

import logging

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from voiceagent.errors import TransferError, VoiceNotConfiguredError
from voiceagent.twilio import twiml

logger = logging.getLogger(__name__)
TWILIO_API_ORIGIN = "https://api.twilio.com"
REST_TIMEOUT_SECONDS = 10.0

# The SDK logs every request at INFO; ours say what matters, so keep its chatter out.
_sdk_logger = logging.getLogger("voiceagent.twilio.sdk")
_sdk_logger.setLevel(logging.WARNING)


class _RebasedHttpClient(TwilioHttpClient):
    """Twilio's HTTP client sending api.twilio.com requests to another origin (local fakes)."""

    def __init__(self, origin: str) -> None:
        super().__init__(timeout=REST_TIMEOUT_SECONDS, logger=_sdk_logger)
        self.origin = origin.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        """Rewrite the API origin, then send as the SDK would."""
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.origin + url[len(TWILIO_API_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


def twilio_client() -> Client:
    """A Twilio REST client from settings; raises VoiceNotConfiguredError without credentials."""
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise VoiceNotConfiguredError("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set")
    if settings.TWILIO_API_BASE_URL:
        http_client = _RebasedHttpClient(settings.TWILIO_API_BASE_URL)
    else:
        http_client = TwilioHttpClient(timeout=REST_TIMEOUT_SECONDS, logger=_sdk_logger)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def call_redirect_to_dial(*, call_sid: str, to_number: str, say: str | None = None) -> None:
    """Redirect the live call `call_sid` to TwiML dialling `to_number`; TransferError on failure."""
    if not call_sid:
        raise ValueError("call_redirect_to_dial needs the CallSid of a live call")
    try:
        document = twiml.handoff_dial(to_number, say=say)
        twilio_client().calls(call_sid).update(twiml=document)
    except VoiceNotConfiguredError as exc:
        logger.warning("voice.transfer.not_configured call_sid=%s", call_sid)
        raise TransferError(f"Twilio is not configured; cannot transfer call {call_sid}") from exc
    except ValueError as exc:
        logger.warning("voice.transfer.no_number call_sid=%s", call_sid)
        raise TransferError(f"no number to transfer call {call_sid} to") from exc
    except TwilioException as exc:
        status = getattr(exc, "status", None)
        logger.warning("voice.transfer.rejected call_sid=%s status=%s", call_sid, status)
        raise TransferError(
            f"Twilio refused to redirect call {call_sid} (status {status})"
        ) from exc
    except requests.RequestException as exc:
        logger.warning(
            "voice.transfer.network_error call_sid=%s error=%s", call_sid, type(exc).__name__
        )
        raise TransferError(f"could not reach Twilio to redirect call {call_sid}") from exc
    logger.info("voice.transfer.redirected call_sid=%s", call_sid)
