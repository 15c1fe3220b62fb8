"""audit_verify: a clean chain passes; every kind of tampering is found and named."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.chain import chain_integrate, link_hash
from audit.checkpoints import checkpoint_write
from audit.verify import FailureKind, chain_verify
from tests.audit.conftest import record_events

pytestmark = pytest.mark.django_db


def _chain_with_checkpoints(n: int = 30, every: int = 10) -> None:
    for _ in range(n // every):
        record_events(every - 1)
        chain_integrate()
        checkpoint_write()  # heads at 9, 19, 29; CHECKPOINT_WRITTEN is then event 10, 20, 30
        chain_integrate()


def _sql(statement: str, params=None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_clean_chain_verifies_and_command_says_ok(worm_dir, capsys):
    _chain_with_checkpoints()
    result = chain_verify()
    assert result.ok
    assert (result.events, result.head_seq, result.checkpoints) == (30, 30, 3)
    call_command("audit_verify", "--no-progress")
    assert f"OK: 30 events, head seq 30 hash {result.head_hash}" in capsys.readouterr().out


def test_verify_resumes_from_since_seq(worm_dir):
    _chain_with_checkpoints()
    result = chain_verify(since_seq=21)
    assert result.ok
    assert result.events == 10


@pytest.mark.postgres
def test_fast_and_reference_paths_agree(worm_dir):
    _chain_with_checkpoints()
    fast, slow = chain_verify(fast=True), chain_verify(fast=False)
    assert (fast.ok, fast.head_hash, fast.events) == (slow.ok, slow.head_hash, slow.events)


def test_verify_reports_pending_tail(worm_dir):
    _chain_with_checkpoints(10)
    record_events(2)
    assert chain_verify().pending == 2


# --- tampering, as a superuser who disables the triggers (Postgres) -----------------------

tamper = pytest.mark.postgres


GUARDED = ("audit_auditevent", "audit_chainlink")


def _triggers(state: str) -> None:
    for table in GUARDED:
        _sql(f"ALTER TABLE {table} {state} TRIGGER USER")


def _event_of(seq: int) -> str:
    """SQL for the id of the event at `seq`."""
    return f"(SELECT event_id FROM audit_chainlink WHERE seq = {int(seq)})"


def _event_id_at(seq: int) -> int:
    from audit.models import ChainLink

    return ChainLink.objects.get(seq=seq).event_id


def _delete_events_from(seq: int) -> None:
    """What an attacker removing events from the chain does: their rows and their links."""
    _sql(
        "DELETE FROM audit_auditevent WHERE id IN "
        f"(SELECT event_id FROM audit_chainlink WHERE seq >= {int(seq)})"
    )
    _sql(f"DELETE FROM audit_chainlink WHERE seq >= {int(seq)}")


def _insert_forged_event(*, seq: int, ts, prev_hash: str, digest: str) -> None:
    _sql(
        "WITH e AS (INSERT INTO audit_auditevent (ts, actor_type, actor_label, action, "
        "resource_type, detail) VALUES (%s, 'system', 'forger', 104, 'clinic.patient', '{}') "
        "RETURNING id) INSERT INTO audit_chainlink (seq, event_id, prev_hash, hash) "
        "SELECT %s, id, %s, %s FROM e",
        [ts, seq, prev_hash, digest],
    )


@pytest.fixture
def tampered(worm_dir):
    _chain_with_checkpoints()
    _triggers("DISABLE")
    return worm_dir


def _fails(kind: FailureKind, seq: int) -> None:
    result = chain_verify()
    assert not result.ok
    assert (result.failure.kind, result.failure.seq) == (kind, seq)
    with pytest.raises(CommandError, match=f"FAIL at seq {seq}: {kind}") as exc:
        call_command("audit_verify", "--no-progress")
    assert exc.value.returncode == 1


@tamper
def test_changed_field_of_a_middle_event_is_found(tampered):
    _sql(f"UPDATE audit_auditevent SET actor_label = 'mallory' WHERE id = {_event_of(15)}")
    _fails(FailureKind.HASH_MISMATCH, 15)


@tamper
def test_escaping_forged_into_a_field_is_found(worm_dir):
    # 'a"b' enters the hash input escaped, as "a\"b". Writing that escaped text itself
    # into the column (a backslash and a quote) must not hash the same: the verifier takes
    # such a row through the escaping form, never pastes the column in as it is.
    record_events(3)
    record_events(1, resource_id='a"b')
    record_events(3)
    chain_integrate()
    assert chain_verify().ok
    _triggers("DISABLE")
    _sql(f"UPDATE audit_auditevent SET resource_id = %s WHERE id = {_event_of(4)}", ['a\\"b'])
    _fails(FailureKind.HASH_MISMATCH, 4)


@tamper
def test_a_hash_that_is_not_hex_before_since_seq_is_named(tampered):
    _sql("UPDATE audit_chainlink SET hash = repeat('z', 64) WHERE seq = 20")
    result = chain_verify(since_seq=21)
    assert (result.failure.kind, result.failure.seq) == (FailureKind.HASH_MISMATCH, 20)


@tamper
def test_changed_link_hash_of_a_middle_event_is_found(tampered):
    _sql("UPDATE audit_chainlink SET hash = repeat('b', 64) WHERE seq = 15")
    _fails(FailureKind.HASH_MISMATCH, 15)


@tamper
def test_deleted_middle_event_is_found(tampered):
    _sql(f"DELETE FROM audit_auditevent WHERE id = {_event_of(15)}")
    _sql("DELETE FROM audit_chainlink WHERE seq = 15")
    _fails(FailureKind.SEQ_GAP, 15)


@tamper
def test_deleted_event_row_behind_its_link_is_found(tampered):
    _sql(f"DELETE FROM audit_auditevent WHERE id = {_event_of(15)}")
    _fails(FailureKind.EVENT_MISSING, 15)


@tamper
def test_deleted_link_of_a_middle_event_is_found(tampered):
    _sql("DELETE FROM audit_chainlink WHERE seq = 15")
    _fails(FailureKind.SEQ_GAP, 15)


@tamper
def test_event_slipped_in_outside_the_chain_is_found(tampered):
    _sql(
        "INSERT INTO audit_auditevent (ts, actor_type, actor_label, action, resource_type, "
        "detail) VALUES (now(), 'system', 'forger', 104, 'clinic.patient', '{}')"
    )
    _fails(FailureKind.UNCHAINED_EVENT, 0)


@tamper
def test_deleted_last_events_are_found_through_the_checkpoint(tampered):
    _delete_events_from(26)
    _fails(FailureKind.CHECKPOINT_TRUNCATED, 29)


@tamper
def test_swapped_events_are_found(tampered):
    _sql("UPDATE audit_chainlink SET seq = -1 WHERE seq = 12")
    _sql("UPDATE audit_chainlink SET seq = 12 WHERE seq = 13")
    _sql("UPDATE audit_chainlink SET seq = 13 WHERE seq = -1")
    _fails(FailureKind.HASH_MISMATCH, 12)


@tamper
def test_swapped_event_rows_under_their_links_are_found(tampered):
    twelve = _event_id_at(12)
    thirteen = _event_id_at(13)
    _sql("UPDATE audit_chainlink SET event_id = -1 WHERE seq = 12")
    _sql("UPDATE audit_chainlink SET event_id = %s WHERE seq = 13", [twelve])
    _sql("UPDATE audit_chainlink SET event_id = %s WHERE seq = 12", [thirteen])
    _fails(FailureKind.HASH_MISMATCH, 12)


@tamper
def test_consistent_rewrite_of_the_whole_table_is_found_through_the_checkpoint(tampered):
    from audit.chain import GENESIS_HASH, canonical_bytes
    from audit.models import AuditEvent

    _sql("UPDATE audit_auditevent SET actor_label = 'rewritten'")
    prev = GENESIS_HASH
    for event in AuditEvent.objects.select_related("link").order_by("link__seq"):
        body = canonical_bytes(
            seq=event.seq,
            prev_hash=prev,
            ts=event.ts,
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            actor_label=event.actor_label,
            action=event.action,
            resource_type=event.resource_type,
            resource_id=event.resource_id,
            practice_id=event.practice_id,
            detail=event.detail,
            request_id=event.request_id,
            ip=event.ip,
        )
        digest = link_hash(prev, body)
        _sql(
            "UPDATE audit_chainlink SET prev_hash = %s, hash = %s WHERE seq = %s",
            [prev, digest, event.seq],
        )
        prev = digest
    assert chain_verify(check_checkpoints=False).ok  # the chain alone looks fine
    _fails(FailureKind.CHECKPOINT_MISMATCH, 9)


@tamper
def test_forged_event_forking_from_an_existing_hash_is_found(tampered):
    from audit.models import ChainLink

    fork_point = ChainLink.objects.get(seq=20)
    _insert_forged_event(
        seq=31,
        ts="2026-01-01T00:00:00Z",
        prev_hash=fork_point.hash,
        digest=hashlib.sha256(b"forged").hexdigest(),
    )
    result = chain_verify()
    assert result.failure.seq == 31
    assert result.failure.kind in {FailureKind.HASH_MISMATCH, FailureKind.BROKEN_LINK}


@tamper
def test_forged_event_with_a_correct_hash_but_a_fork_link_is_found(tampered):
    from audit.chain import canonical_bytes
    from audit.models import AuditEvent, ChainLink

    fork_point = ChainLink.objects.get(seq=20)
    latest = AuditEvent.objects.get(link__seq=30)
    body = canonical_bytes(
        seq=31,
        prev_hash=fork_point.hash,
        ts=latest.ts,
        actor_type="system",
        actor_id=None,
        actor_label="forger",
        action=104,
        resource_type="clinic.patient",
        resource_id=None,
        practice_id=None,
        detail={},
        request_id=None,
        ip=None,
    )
    _insert_forged_event(
        seq=31, ts=latest.ts, prev_hash=fork_point.hash, digest=link_hash(fork_point.hash, body)
    )
    _fails(FailureKind.BROKEN_LINK, 31)


@tamper
def test_older_checkpoint_restored_in_place_of_the_newest_is_found(tampered):
    folder = tampered / "audit-checkpoints"
    newest = folder / "00000000000000000029.checkpoint"
    older = folder / "00000000000000000019.checkpoint"
    _delete_events_from(20)  # roll the chain back to the older head
    os.chmod(newest, stat.S_IWUSR | stat.S_IRUSR)
    newest.write_bytes(older.read_bytes())
    _fails(FailureKind.CHECKPOINT_NAME, 19)


def test_missing_checkpoint_object_is_found(worm_dir):
    _chain_with_checkpoints()
    (worm_dir / "audit-checkpoints" / "00000000000000000019.checkpoint").unlink()
    result = chain_verify()
    assert (result.failure.kind, result.failure.seq) == (FailureKind.CHECKPOINT_MISSING, 19)


# --- the parallel fast path: seq ranges on their own connections must join exactly ----------


@pytest.fixture
def parallel_chain(worm_dir, monkeypatch):
    """40 committed, sealed events verified in two ranges (1-20, 21-); triggers restored after."""
    from audit import verify

    monkeypatch.setattr(verify, "PARALLEL_MIN_EVENTS", 0)
    record_events(40)
    chain_integrate()
    _triggers("DISABLE")
    yield
    _triggers("ENABLE")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_ranges_verify_like_one_loop(parallel_chain):
    fast = chain_verify(workers=2, check_checkpoints=False)
    slow = chain_verify(fast=False, check_checkpoints=False)
    assert fast.ok, fast.failure
    assert (fast.events, fast.head_seq, fast.head_hash) == (40, 40, slow.head_hash)
    assert chain_verify(workers=2, since_seq=15, check_checkpoints=False).events == 26


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("tamper", "kind", "seq"),
    [
        (
            f"UPDATE audit_auditevent SET actor_label = 'mallory' WHERE id = {_event_of(30)}",
            "HASH_MISMATCH",
            30,
        ),
        (
            f"UPDATE audit_auditevent SET actor_label = 'mallory' WHERE id = {_event_of(5)}",
            "HASH_MISMATCH",
            5,
        ),
        ("DELETE FROM audit_chainlink WHERE seq = 20", "SEQ_GAP", 20),  # end of the 1st range
        ("DELETE FROM audit_chainlink WHERE seq = 21", "SEQ_GAP", 21),  # start of the 2nd
        (f"DELETE FROM audit_auditevent WHERE id = {_event_of(21)}", "EVENT_MISSING", 21),
        (
            "UPDATE audit_chainlink SET prev_hash = repeat('a', 64) WHERE seq = 21",
            "HASH_MISMATCH",
            21,
        ),
        # the hash the 2nd range starts from is not hex: the 1st range names it
        ("UPDATE audit_chainlink SET hash = repeat('z', 64) WHERE seq = 20", "HASH_MISMATCH", 20),
    ],
)
def test_parallel_ranges_find_tampering_at_the_right_seq(parallel_chain, tamper, kind, seq):
    _sql(tamper)
    result = chain_verify(workers=2, check_checkpoints=False)
    assert (result.failure.kind, result.failure.seq) == (FailureKind[kind], seq)
    assert result.events == seq - 1
