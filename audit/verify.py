"""Verifying the chain: every hash, every link, seq continuity and every signed checkpoint.

Invariant: `chain_verify` trusts nothing stored: it recomputes each hash from the event's
columns and its link's seq and prev_hash, follows prev_hash links from the genesis value (or
from the event before --since-seq), requires seq to run 1, 2, 3... without gaps and every
link's event to exist, requires every event to be either linked or pending (a full run),
and checks that every checkpoint in WORM storage is signed by this log's key, sits under its
own name, and names a (seq, hash) the chain still contains. It stops at the first failure and
names its seq and kind.

Speed: on Postgres the database builds each event's canonical bytes from its columns
(audit.chain.PG_VERIFY_CANONICAL_SQL) and sends only (seq, prev_hash, hash, canonical bytes) through
a server-side binary cursor; Python recomputes SHA-256(raw prev_hash || canonical) for every
row itself, so the auditor trusts the database for nothing but the byte layout (which
tests/audit/test_chain.py pins to canonical_bytes()), and no row is re-serialised in Python.
Large chains are verified in consecutive seq ranges on parallel connections, so Postgres
builds one range's rows while Python hashes another's; the ranges must join exactly.
`fast=False` (and SQLite) re-serialises every row in Python: the reference path, which
tests/audit/test_verify.py checks agrees with the fast one.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from audit.actions import AuditAction
from audit.chain import (
    EVENT_COLUMNS,
    GENESIS_HASH,
    LINK_TABLE,
    PENDING_TABLE,
    PG_VERIFY_CANONICAL_SQL,
    TABLE,
    canonical_bytes,
    chain_head,
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
# Below this many events one stream is as fast as several; above it, ranges run in parallel.
PARALLEL_MIN_EVENTS = 50_000
MAX_WORKERS = 4
_NO_END = 2**63 - 1
_NAME_SEQ = re.compile(r"^(\d+)\.checkpoint$")


class FailureKind(StrEnum):
    """The ways a chain can fail verification."""

    HASH_MISMATCH = "hash mismatch"  # the row's content no longer gives its stored hash
    BROKEN_LINK = "broken link"  # prev_hash is not the previous event's hash (fork, reorder)
    SEQ_GAP = "seq gap"  # an event is missing (or seq does not start at 1)
    EVENT_MISSING = "event missing"  # a link names an event row that is gone
    UNCHAINED_EVENT = "event outside the chain"  # an event neither linked nor pending
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
    workers: int | None = None,
) -> VerifyResult:
    """Verify the chain from since_seq to the head, then every checkpoint."""
    fast = connection.vendor == "postgresql" if fast is None else fast
    result = VerifyResult(pending=pending_count())
    since_seq = max(1, since_seq)
    start_prev = GENESIS_HASH if since_seq == 1 else _hash_at(since_seq - 1)
    if start_prev is None:
        result.failure = Failure(
            since_seq - 1, FailureKind.SEQ_GAP, f"seq {since_seq - 1} is missing"
        )
        return result
    if not _is_hash(start_prev):
        result.failure = Failure(
            since_seq - 1,
            FailureKind.HASH_MISMATCH,
            f"event seq {since_seq - 1} stores a hash that is not 64 hex digits",
        )
        return result
    report = _Progress(progress, batch_size)
    if fast:
        outcome = _verify_fast(since_seq, start_prev, batch_size, workers, report)
    else:
        outcome = _verify_rows(since_seq, start_prev, _stream_python(since_seq, batch_size), report)
    report.flush()
    result.events = outcome.events
    result.head_seq = outcome.last_seq
    result.head_hash = outcome.last_hash
    result.failure = outcome.failure
    if result.failure is None and since_seq == 1:
        result.failure = _unchained_event_failure()
    if result.failure is None and check_checkpoints:
        _verify_checkpoints(result, store or worm_store())
    return result


class _Progress:
    """Thread-safe progress reporting in steps of about one batch."""

    def __init__(self, callback: Callable[[int], None] | None, step: int) -> None:
        self.callback = callback
        self.step = step
        self.pending = 0
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        if self.callback is None:
            return
        with self.lock:
            self.pending += n
            if self.pending >= self.step:
                self.callback(self.pending)
                self.pending = 0

    def flush(self) -> None:
        if self.callback is not None and self.pending:
            self.callback(self.pending)
            self.pending = 0


@dataclass(slots=True)
class _RangeOutcome:
    """How far one seq range verified: events checked, last good (seq, hash), first failure."""

    events: int
    last_seq: int
    last_hash: str
    failure: Failure | None = None


def _verify_rows(
    first_seq: int, start_prev: str, rows: Iterator[tuple[int, str, str, str]], report: _Progress
) -> _RangeOutcome:
    """The reference loop over (seq, prev_hash, stored hash, recomputed hash) rows."""
    expected_seq, expected_prev = first_seq, start_prev
    failure = None
    count = 0
    for seq, prev_hash, stored_hash, computed in rows:
        failure = _row_failure(expected_seq, expected_prev, seq, prev_hash, stored_hash, computed)
        if failure is not None:
            break
        expected_prev = stored_hash
        expected_seq += 1
        count += 1
        if count >= report.step:
            report.add(count)
            count = 0
    report.add(count)
    return _RangeOutcome(expected_seq - first_seq, expected_seq - 1, expected_prev, failure)


def _row_failure(
    expected_seq: int,
    expected_prev: str,
    seq: int,
    prev_hash: str,
    stored: str,
    computed: str | None,
) -> Failure | None:
    # Same order everywhere: a missing seq, its missing event (computed None), then the row's
    # own hash, then its link.
    if seq != expected_seq:
        return Failure(
            expected_seq,
            FailureKind.SEQ_GAP,
            f"seq {expected_seq} is missing (next stored seq is {seq})",
        )
    if computed is None:
        return Failure(
            seq, FailureKind.EVENT_MISSING, f"the event of seq {seq} is gone from the audit table"
        )
    if computed != stored:
        return Failure(
            seq, FailureKind.HASH_MISMATCH, f"event seq {seq} does not hash to its stored hash"
        )
    if prev_hash != expected_prev:
        return Failure(
            seq,
            FailureKind.BROKEN_LINK,
            f"event seq {seq} links to {prev_hash[:16]}..., not to seq {seq - 1}'s hash",
        )
    return None


_HEX_DIGITS = frozenset("0123456789abcdef")


def _is_hash(text: str) -> bool:
    return len(text) == 64 and _HEX_DIGITS.issuperset(text)


def _hash_at(seq: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {LINK_TABLE} WHERE seq = %s", [seq])  # noqa: S608 - constant table name
        row = cursor.fetchone()
    return None if row is None else row[0]


# Postgres builds each sealed event's canonical bytes (audit.chain.PG_VERIFY_CANONICAL_SQL) and sends
# them with seq, prev_hash and hash; Python recomputes SHA-256(raw prev || canonical) itself.
# The links stream in seq order off their primary key and each fetches its event by id
# (a nested loop: _verify_range turns off the hash and merge joins for its transaction, which
# the planner would otherwise pick, hashing the whole event table and then sorting). A link
# whose event row is gone comes back with NULL bytes (LEFT JOIN), and is named so.
_FAST_SQL = (
    f"SELECT l.seq, l.prev_hash, l.hash, {PG_VERIFY_CANONICAL_SQL} FROM {LINK_TABLE} l "  # noqa: S608 - constant SQL
    f"LEFT JOIN {TABLE} e ON e.id = l.event_id "
    "WHERE l.seq >= %s AND l.seq <= %s ORDER BY l.seq"
)
# For the verifying transaction only: the plan above, and no JIT (compiling costs more than
# it saves on this expression).
_FAST_SETTINGS = ("jit = off", "enable_hashjoin = off", "enable_mergejoin = off")


def _verify_fast(
    since_seq: int, start_prev: str, batch_size: int, workers: int | None, report: _Progress
) -> _RangeOutcome:
    """Verify [since_seq, head] in consecutive seq ranges, in parallel where it pays.

    Each range starts from the stored hash just before it; afterwards every range must end
    exactly where the next one starts, on the hash the next one started from, so the links
    join as if one loop had run. Parallel ranges (own connections, threads) let Postgres
    build rows in one backend while Python hashes another range's rows (2+ cores).
    """
    head_seq = chain_head().seq
    total = head_seq - since_seq + 1
    if workers is None:
        workers = min(MAX_WORKERS, max(2, os.cpu_count() or 2))
    # Uncommitted rows (a caller's open transaction, e.g. a test) are invisible elsewhere.
    if connection.in_atomic_block or total < PARALLEL_MIN_EVENTS:
        workers = 1
    bounds = [since_seq + total * i // workers for i in range(workers)]
    # The last range is open-ended: it also verifies events sealed while we run.
    ranges = [
        (lo, (bounds[i + 1] - 1) if i + 1 < workers else _NO_END) for i, lo in enumerate(bounds)
    ]
    starts = [start_prev, *(_hash_at(lo - 1) for lo, _ in ranges[1:])]
    if workers == 1:
        return _verify_range(since_seq, _NO_END, start_prev, batch_size, report, own=False)
    outcomes: list[_RangeOutcome | BaseException | None] = [None] * workers

    def run(i: int) -> None:
        lo, hi = ranges[i]
        try:
            if starts[i] is None or not _is_hash(starts[i]):  # the row before this range
                outcomes[i] = _RangeOutcome(0, lo - 1, "")  # is bad: the previous range says how
            else:
                outcomes[i] = _verify_range(lo, hi, starts[i], batch_size, report, own=True)
        except BaseException as exc:  # re-raised in the caller's thread below
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _join_ranges(ranges, starts, outcomes)


def _join_ranges(
    ranges: list[tuple[int, int]],
    starts: list[str | None],
    outcomes: list,
) -> _RangeOutcome:
    events = 0
    for i, outcome in enumerate(outcomes):
        if isinstance(outcome, BaseException):
            raise outcome
        events += outcome.events
        joined = _RangeOutcome(events, outcome.last_seq, outcome.last_hash, outcome.failure)
        if outcome.failure is not None or i + 1 == len(outcomes):
            return joined
        hi = ranges[i][1]
        if outcome.last_seq != hi:
            joined.failure = Failure(
                outcome.last_seq + 1,
                FailureKind.SEQ_GAP,
                f"seq {outcome.last_seq + 1} is missing",
            )
            return joined
        if starts[i + 1] != outcome.last_hash:  # changed between our two reads of it
            joined.failure = Failure(
                hi + 1, FailureKind.BROKEN_LINK, f"event seq {hi + 1} does not link to seq {hi}"
            )
            return joined
    raise AssertionError("unreachable: the last range always returns")  # pragma: no cover


def _verify_range(
    lo: int, hi: int, start_prev: str, batch_size: int, report: _Progress, *, own: bool
) -> _RangeOutcome:
    """Stream one seq range through a server-side binary cursor and check every row."""
    db = connections.create_connection(DEFAULT_DB_ALIAS) if own else connection
    try:
        with transaction.atomic(using=db.alias) if not own else _raw_atomic(db):
            db.ensure_connection()
            for setting in _FAST_SETTINGS:
                db.connection.execute(f"SET LOCAL {setting}")
            with db.connection.cursor(name="audit_verify_range", binary=True) as cursor:
                cursor.itersize = batch_size
                cursor.execute(_FAST_SQL, [lo, hi])
                return _check_stream(cursor, lo, start_prev, batch_size, report)
    finally:
        if own:
            db.close()


@contextmanager
def _raw_atomic(db: Any) -> Iterator[None]:
    # A private connection made for one thread: one read-only transaction, no Django state.
    db.ensure_connection()
    with db.connection.transaction():
        db.connection.execute("SET TRANSACTION READ ONLY")
        yield


def _check_stream(
    cursor: Any, first_seq: int, start_prev: str, batch_size: int, report: _Progress
) -> _RangeOutcome:
    # The hot loop: per row one tuple unpack, three comparisons, one SHA-256 and its hex.
    sha256 = hashlib.sha256
    expected_seq = first_seq
    expected_prev = start_prev
    prev_raw = bytes.fromhex(start_prev)
    while rows := cursor.fetchmany(batch_size):
        batch_first = expected_seq
        for seq, prev_hash, stored, canonical in rows:
            if seq != expected_seq or prev_hash != expected_prev or canonical is None:
                break
            digest = sha256(prev_raw + canonical).digest()
            if digest.hex() != stored:
                break
            prev_raw = digest
            expected_prev = stored
            expected_seq += 1
        else:
            report.add(len(rows))
            continue
        report.add(expected_seq - batch_first)
        # The row that stopped the loop: name its failure exactly as the reference path does.
        computed = _hash_with_own_prev(prev_hash, canonical)
        failure = _row_failure(expected_seq, expected_prev, seq, prev_hash, stored, computed)
        return _RangeOutcome(expected_seq - first_seq, expected_seq - 1, expected_prev, failure)
    return _RangeOutcome(expected_seq - first_seq, expected_seq - 1, expected_prev)


def _hash_with_own_prev(prev_hash: str | None, canonical: bytes | None) -> str | None:
    if canonical is None:
        return None
    try:
        return link_hash(prev_hash, canonical) if prev_hash else ""
    except ValueError:  # not hex: no honest row has this
        return ""


def _stream_python(since_seq: int, batch_size: int) -> Iterator[tuple[int, str, str, str]]:
    """The reference path: re-serialise every row in Python (any database)."""
    from audit.models import ChainLink

    columns = ["seq", "prev_hash", "hash", "event__id", *(f"event__{c}" for c in EVENT_COLUMNS)]
    query = (
        ChainLink.objects.filter(seq__gte=since_seq)
        .order_by("seq")
        .values_list(*columns)
        .iterator(chunk_size=batch_size)
    )
    for seq, prev_hash, stored, event_id, *event_values in query:
        if event_id is None:  # the link's event row is gone
            yield seq, prev_hash, stored, None
            continue
        values = dict(zip(EVENT_COLUMNS, event_values, strict=True))
        canonical = canonical_bytes(seq=seq, prev_hash=prev_hash, **values)
        yield seq, prev_hash, stored, link_hash(prev_hash, canonical)


def _hashes_at(seqs: list[int]) -> dict[int, str]:
    from audit.models import ChainLink

    found: dict[int, str] = {}
    for i in range(0, len(seqs), 500):  # SQLite caps the number of parameters
        found.update(ChainLink.objects.filter(seq__in=seqs[i : i + 500]).values_list("seq", "hash"))
    return found


def _unchained_event_failure() -> Failure | None:
    """An event row that is neither linked nor waiting in the queue was slipped in (or its
    link and queue row removed): the chain does not vouch for it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id FROM {TABLE} e WHERE NOT EXISTS "  # noqa: S608 - constant names
            f"(SELECT 1 FROM {LINK_TABLE} l WHERE l.event_id = e.id) AND NOT EXISTS "
            f"(SELECT 1 FROM {PENDING_TABLE} p WHERE p.event_id = e.id) ORDER BY e.id LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return Failure(
        0,
        FailureKind.UNCHAINED_EVENT,
        f"audit event id {row[0]} is neither in the chain nor waiting to be sealed",
    )


def _verify_checkpoints(result: VerifyResult, store: WormStore) -> None:
    names = store.names()
    # One query for every checkpointed head instead of one per checkpoint.
    named_seqs = [int(m.group(1)) for m in map(_NAME_SEQ.match, names) if m]
    stored_hashes = _hashes_at(sorted(set(named_seqs)))
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
        stored = stored_hashes.get(checkpoint.seq)
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
        action=AuditAction.CHECKPOINT_WRITTEN, link__isnull=False
    ).values_list("link__seq", "detail")
    for seq, detail in recorded.iterator():
        name = checkpoint_name(int(detail["seq"]))
        if name not in stored_names:
            result.failure = Failure(
                int(detail["seq"]),
                FailureKind.CHECKPOINT_MISSING,
                f"event seq {seq} records checkpoint {name}, which is gone from WORM storage",
            )
            return
