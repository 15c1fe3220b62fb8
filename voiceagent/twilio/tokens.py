"""Single-use media-stream tokens bound to a CallSid.

The incoming-call webhook issues a token and puts it in the TwiML `<Parameter>`; the media
stream consumer redeems it from the `start` message. Invariants: only the token's SHA-256 is
stored; a token is valid for VOICE_STREAM_TOKEN_TTL_SECONDS; it is consumed by one conditional
UPDATE (`used_at IS NULL AND expires_at > now AND call_sid = ...`), so two processes racing on
the same token cannot both win; a wrong CallSid does not consume it.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from voiceagent.errors import StreamTokenError
from voiceagent.models import StreamToken

TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True)
class StreamGrant:
    """What a redeemed token allows: the media stream of this practice's call."""

    practice_id: uuid.UUID
    call_id: uuid.UUID


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def stream_token_issue(*, call_sid: str, practice_id: uuid.UUID, call_id: uuid.UUID) -> str:
    """Create a single-use stream token for this call and return it (only its hash is kept)."""
    if not call_sid:
        raise ValueError("a stream token must be bound to a CallSid")
    now = timezone.now()
    # Housekeeping: expired tokens are useless; keep the table small.
    StreamToken.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    StreamToken.objects.create(
        token_hash=_token_hash(token),
        call_sid=call_sid,
        practice_id=practice_id,
        call_id=call_id,
        expires_at=now + timedelta(seconds=settings.VOICE_STREAM_TOKEN_TTL_SECONDS),
    )
    return token


@transaction.atomic
def stream_token_redeem(*, token: str, call_sid: str) -> StreamGrant:
    """Consume `token` for `call_sid`; raise StreamTokenError if unknown, used, expired or foreign."""
    if not token or not call_sid or len(token) > MAX_TOKEN_LENGTH:
        raise StreamTokenError("stream token missing or malformed")
    now = timezone.now()
    token_hash = _token_hash(token)
    # One conditional UPDATE is the race-free consume: only one redeemer sees a row count of 1.
    consumed = StreamToken.objects.filter(
        token_hash=token_hash, call_sid=call_sid, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if consumed != 1:
        raise StreamTokenError(f"stream token rejected for call {call_sid}")
    row = StreamToken.objects.only("practice_id", "call_id").get(token_hash=token_hash)
    return StreamGrant(practice_id=row.practice_id, call_id=row.call_id)
