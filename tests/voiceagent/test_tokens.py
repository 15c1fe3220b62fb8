"""Single-use media-stream tokens: bound to one CallSid, short-lived, consumed once."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from voiceagent.errors import StreamTokenError
from voiceagent.models import StreamToken
from voiceagent.twilio.tokens import stream_token_issue, stream_token_redeem

pytestmark = pytest.mark.django_db


def _issue(call_sid: str = "CA" + "1" * 32) -> tuple[str, uuid.UUID, uuid.UUID]:
    practice_id, call_id = uuid.uuid4(), uuid.uuid4()
    token = stream_token_issue(call_sid=call_sid, practice_id=practice_id, call_id=call_id)
    return token, practice_id, call_id


def test_redeem_returns_the_practice_and_call_the_token_was_issued_for():
    token, practice_id, call_id = _issue()

    grant = stream_token_redeem(token=token, call_sid="CA" + "1" * 32)

    assert grant.practice_id == practice_id
    assert grant.call_id == call_id


def test_token_is_single_use():
    token, _, _ = _issue()
    stream_token_redeem(token=token, call_sid="CA" + "1" * 32)

    with pytest.raises(StreamTokenError):
        stream_token_redeem(token=token, call_sid="CA" + "1" * 32)


def test_token_for_another_call_sid_is_refused_and_not_consumed():
    token, _, _ = _issue()

    with pytest.raises(StreamTokenError):
        stream_token_redeem(token=token, call_sid="CA" + "2" * 32)
    # The rightful call can still use it: a wrong guess must not burn the real caller's token.
    assert stream_token_redeem(token=token, call_sid="CA" + "1" * 32)


def test_expired_token_is_refused(settings):
    settings.VOICE_STREAM_TOKEN_TTL_SECONDS = 60
    token, _, _ = _issue()
    StreamToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(StreamTokenError):
        stream_token_redeem(token=token, call_sid="CA" + "1" * 32)


def test_token_expiry_follows_the_configured_ttl(settings):
    settings.VOICE_STREAM_TOKEN_TTL_SECONDS = 30
    before = timezone.now()
    _issue()

    row = StreamToken.objects.get()
    assert timedelta(seconds=29) < row.expires_at - before <= timedelta(seconds=31)


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 500])
def test_unknown_or_malformed_token_is_refused(token):
    _issue()

    with pytest.raises(StreamTokenError):
        stream_token_redeem(token=token, call_sid="CA" + "1" * 32)


def test_only_a_hash_of_the_token_is_stored():
    token, _, _ = _issue()

    row = StreamToken.objects.get()
    assert token not in row.token_hash
    assert len(row.token_hash) == 64


def test_issue_refuses_a_missing_call_sid():
    with pytest.raises(ValueError, match="CallSid"):
        stream_token_issue(call_sid="", practice_id=uuid.uuid4(), call_id=uuid.uuid4())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeems_of_one_token_have_exactly_one_winner():
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    token, _, _ = _issue()

    def attempt() -> bool:
        try:
            stream_token_redeem(token=token, call_sid="CA" + "1" * 32)
        except StreamTokenError:
            return False
        finally:
            connection.close()
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: attempt(), range(8)))
    assert results.count(True) == 1
