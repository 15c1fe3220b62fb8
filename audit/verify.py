"""Verifying the chain: every hash, every link, seq continuity and every signed checkpoint.

Invariant: `chain_verify` trusts nothing stored: it recomputes each hash from the event's
columns, follows prev_hash links from the genesis value (or from the event before
--since-seq), requires seq to run 1, 2, 3... without gaps, and checks that every checkpoint in
WORM storage is signed by this log's key, sits under its own name, and names a (seq, hash)
the chain still contains. It stops at the first failure and names its seq and kind.

Speed: on Postgres the database builds each event's hash input (raw prev_hash || canonical
bytes, audit.chain.PG_HASH_INPUT_SQL) and Python only streams those bytes and hashes them, so
no row is re-serialised in Python. `fast=False` (and SQLite) re-serialises every row in
Python: the reference path, which tests/audit/test_verify.py checks agrees with the fast one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from django.db import connection, transaction

from audit.actions import AuditAction
from audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    PG_HASH_INPUT_SQL,
    TABLE,
    canonical_bytes,
    link_hash,
    pending_count,
)
from audit.checkpoints import (
    WormStore,
    checkpoint_name,
    checkpoint_parse,
    worm_store,
)
from audit.errors import CheckpointError

DEFAULT_BATCH = 20_000
_NAME_SEQ = re.compile(r"^(\d+)\.checkpoint$")


class FailureKind(StrEnum):
    """The ways a chain can fail verification."""

    HASH_MISMATCH = "hash mismatch"  # the row's content no longer gives its stored hash
    BROKEN_LINK = "broken link"  # prev_hash is not the previous event's hash (fork, reorder)
    SEQ_GAP = "seq gap"  # an event is missing (or seq does not start at 1)
    CHECKPOINT_SIGNATURE = "checkpoint signature invalid"
    CHECKPOINT_NAME = "checkpoint name mismatch"  # an older checkpoint stored under a newer name
    CHECKPOINT_TRUNCATED = "checkpoint head missing from chain"  # events after it deleted
    CHECKPOINT_MISMATCH = "checkpoint hash mismatch"  # the chain was rewritten
    CHECKPOINT_MISSING = "checkpoint missing from storage"  # the chain recorded it, storage lost it


@dataclass(frozen=True, slots=True)
class Failure:
    """The first failure: at which seq, what kind, and a sentence for the operator."""

    seq: int
    kind: FailureKind
    message: str


@dataclass(slots=True)
class VerifyResult:
    """What verification found."""

    events: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    pending: int = 0
    checkpoints: int = 0
    failure: Failure | None = None
    checkpoint_seqs: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return self.failure is None


def chain_verify(
    *,
    since_seq: int = 1,
    batch_size: int = DEFAULT_BATCH,
    fast: bool | None = None,
    progress: Callable[[int], None] | None = None,
    store: WormStore | None = None,
    check_checkpoints: bool = True,
) -> VerifyResult:
    """Verify the chain from since_seq to the head, then every checkpoint."""
    fast = connection.vendor == "postgresql" if fast is None else fast
    result = VerifyResult(pending=pending_count())
    since_seq = max(1, since_seq)
    expected_prev = GENESIS_HASH if since_seq == 1 else _hash_at(since_seq - 1)
    if expected_prev is None:
        result.failure = Failure(
            since_seq - 1, FailureKind.SEQ_GAP, f"seq {since_seq - 1} is missing"
        )
        return result
    expected_seq = since_seq
    rows = _stream_fast(since_seq, batch_size) if fast else _stream_python(since_seq, batch_size)
    pending_progress = 0
    for seq, prev_hash, stored_hash, computed in rows:
        if seq != expected_seq:
            result.failure = Failure(
                expected_seq,
                FailureKind.SEQ_GAP,
                f"seq {expected_seq} is missing (next stored seq is {seq})",
            )
            break
        if computed != stored_hash:
            result.failure = Failure(
                seq, FailureKind.HASH_MISMATCH, f"event seq {seq} does not hash to its stored hash"
            )
            break
        if prev_hash != expected_prev:
            result.failure = Failure(
                seq,
                FailureKind.BROKEN_LINK,
                f"event seq {seq} links to {prev_hash[:16]}..., not to seq {seq - 1}'s hash",
            )
            break
        expected_prev = stored_hash
        expected_seq += 1
        result.events += 1
        pending_progress += 1
        if progress is not None and pending_progress >= batch_size:
            progress(pending_progress)
            pending_progress = 0
    if progress is not None and pending_progress:
        progress(pending_progress)
    result.head_seq = expected_seq - 1
    result.head_hash = expected_prev
    if result.failure is None and check_checkpoints:
        _verify_checkpoints(result, store or worm_store())
    return result


def _hash_at(seq: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {TABLE} WHERE seq = %s", [seq])  # noqa: S608 - constant table name
        row = cursor.fetchone()
    return None if row is None else row[0]


def _stream_fast(since_seq: int, batch_size: int) -> Iterator[tuple[int, str, str, str]]:
    """(seq, prev_hash, hash, recomputed hash) with the hash input built by Postgres."""
    sha256 = hashlib.sha256
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        # A server-side binary cursor: bounded memory, bytea arrives as raw bytes.
        with raw.cursor(name="audit_verify_stream", binary=True) as cursor:
            cursor.itersize = batch_size
            cursor.execute(
                f"SELECT e.seq, e.prev_hash, e.hash, {PG_HASH_INPUT_SQL} "  # noqa: S608 - constant SQL
                f"FROM {TABLE} e WHERE e.seq >= %s ORDER BY e.seq",
                [since_seq],
            )
            while rows := cursor.fetchmany(batch_size):
                for seq, prev_hash, stored, hash_input in rows:
                    yield seq, prev_hash, stored, sha256(hash_input).hexdigest()


def _stream_python(since_seq: int, batch_size: int) -> Iterator[tuple[int, str, str, str]]:
    """The reference path: re-serialise every row in Python (any database)."""
    from audit.models import AuditEvent

    columns = ["seq", "prev_hash", "hash", *EVENT_COLUMNS]
    query = (
        AuditEvent.objects.filter(seq__gte=since_seq)
        .order_by("seq")
        .values_list(*columns)
        .iterator(chunk_size=batch_size)
    )
    for row in query:
        values = dict(zip(columns, row, strict=True))
        seq, prev_hash, stored = values.pop("seq"), values.pop("prev_hash"), values.pop("hash")
        canonical = canonical_bytes(seq=seq, prev_hash=prev_hash, **values)
        yield seq, prev_hash, stored, link_hash(prev_hash, canonical)


def _verify_checkpoints(result: VerifyResult, store: WormStore) -> None:
    names = store.names()
    previous_seq = 0
    for name in names:
        note = store.read(name).decode()
        named = _NAME_SEQ.match(name)
        try:
            checkpoint = checkpoint_parse(note)
        except CheckpointError as exc:
            seq = int(named.group(1)) if named else 0
            result.failure = Failure(
                seq, FailureKind.CHECKPOINT_SIGNATURE, f"checkpoint {name}: {exc}"
            )
            return
        if named is None or int(named.group(1)) != checkpoint.seq or checkpoint.seq < previous_seq:
            result.failure = Failure(
                checkpoint.seq,
                FailureKind.CHECKPOINT_NAME,
                f"checkpoint object {name} holds the checkpoint of seq {checkpoint.seq}",
            )
            return
        previous_seq = checkpoint.seq
        if checkpoint.seq > result.head_seq:
            result.failure = Failure(
                checkpoint.seq,
                FailureKind.CHECKPOINT_TRUNCATED,
                f"checkpoint {name} signed head seq {checkpoint.seq}, but the chain ends at "
                f"seq {result.head_seq}: events were deleted",
            )
            return
        stored = _hash_at(checkpoint.seq)
        if stored != checkpoint.hash:
            result.failure = Failure(
                checkpoint.seq,
                FailureKind.CHECKPOINT_MISMATCH,
                f"checkpoint {name} signed hash {checkpoint.hash[:16]}... for seq "
                f"{checkpoint.seq}, the chain now has {(stored or 'nothing')[:16]}...",
            )
            return
        result.checkpoints += 1
        result.checkpoint_seqs.append(checkpoint.seq)
    # Every checkpoint the chain says was written must still be in storage.
    from audit.models import AuditEvent

    stored_names = set(names)
    recorded = AuditEvent.objects.filter(
        action=AuditAction.CHECKPOINT_WRITTEN, seq__isnull=False
    ).values_list("seq", "detail")
    for seq, detail in recorded.iterator():
        name = checkpoint_name(int(detail["seq"]))
        if name not in stored_names:
            result.failure = Failure(
                int(detail["seq"]),
                FailureKind.CHECKPOINT_MISSING,
                f"event seq {seq} records checkpoint {name}, which is gone from WORM storage",
            )
            return
