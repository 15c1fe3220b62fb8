"""The chain: canonical serialisation, the hash rule, and integrating pending events.

Canonical form (version 1), so an outside verifier can recompute every hash
---------------------------------------------------------------------------
An event is the JSON object with exactly these keys::

    action         integer action code (audit.actions.AuditAction)
    actor_id       string or null
    actor_label    string
    actor_type     string ("user", "system", "voice_agent", "anonymous")
    detail         JSON object (string keys; values string, integer, boolean, null, list, object;
                   no floats)
    ip             string or null
    practice_id    string or null
    prev_hash      64 lowercase hex characters
    request_id     string or null
    resource_id    string or null
    resource_type  string
    seq            integer, 1 for the first event, +1 for each next one (no gaps)
    ts             UTC time "YYYY-MM-DDTHH:MM:SS.ffffffZ" (always six fraction digits)
    v              1 (this canonical form's version)

serialised with keys sorted by code point at every level, no whitespace (separators "," and
":"), non-ASCII characters written as themselves, and the string escapes of RFC 8259 with the
short forms \\" \\\\ \\b \\f \\n \\r \\t and \\u00xx (lowercase hex) for the other control
characters; then encoded as UTF-8. (Python: ``json.dumps(obj, sort_keys=True,
separators=(",", ":"), ensure_ascii=False).encode()``.)

    hash = lowercase hex of SHA-256( bytes.fromhex(prev_hash) || canonical_bytes )

The first event (seq 1) has prev_hash = GENESIS_HASH (64 zeros); every later event's
prev_hash is the previous event's hash. `ts` is when the event was recorded (in the business
transaction); `seq` is when it was integrated, so ts is not strictly monotonic in seq.

Integration (why events are chained in batches)
-----------------------------------------------
`audit_record` inserts the event with seq/prev_hash/hash NULL, inside the business
transaction and without any lock, so business transactions never wait on each other.
`chain_integrate` then, under one transaction-scoped advisory lock (Postgres), reads the head,
takes the committed pending rows in insertion order, hashes them in Python and seals them in a
single UPDATE. Only committed rows are visible to it, so a rolled-back business transaction
leaves no hole, and there is only ever one integrator at a time, so the chain cannot fork.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connections, transaction

GENESIS_HASH = "0" * 64
CANONICAL_VERSION = 1
# Any fixed 64-bit number; every integrator takes this lock, nothing else does.
ADVISORY_LOCK_KEY = 0x434C_4152_4155_4454  # "CLARAUDT"
DEFAULT_BATCH_SIZE = 2000
# Called with the ids of each sealed batch after its commit (bench/bench_audit.py measures lag).
SEAL_LISTENERS: list = []

TABLE = "audit_auditevent"
# The columns the canonical form is built from, in the order the integrator reads them.
EVENT_COLUMNS = (
    "action",
    "actor_id",
    "actor_label",
    "actor_type",
    "detail",
    "ip",
    "practice_id",
    "request_id",
    "resource_id",
    "resource_type",
    "ts",
)


def canonical_detail(detail: Any) -> str:
    """The canonical JSON text of an event's detail object (refuses floats and non-dicts)."""
    if not isinstance(detail, Mapping):
        raise TypeError(f"audit detail must be a dict, not {type(detail).__name__}")
    _check_detail_value(detail, "detail")
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _check_detail_value(value: Any, path: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit {path} keys must be strings, got {key!r}")
            _check_detail_value(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_detail_value(item, f"{path}[{i}]")
    elif isinstance(value, float):
        # A float's text form is not canonical across languages; store ms or a count instead.
        raise TypeError(f"audit {path} is a float; use an integer (e.g. milliseconds)")
    elif not (value is None or isinstance(value, str | int | bool)):
        raise TypeError(
            f"audit {path} must be str, int, bool, None, list or dict, not {type(value).__name__}"
        )


def format_ts(ts: datetime) -> str:
    """The canonical UTC timestamp text of an event."""
    if ts.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(
    *,
    seq: int,
    prev_hash: str,
    ts: datetime,
    actor_type: str,
    actor_id: str | None,
    actor_label: str,
    action: int,
    resource_type: str,
    resource_id: str | None,
    practice_id: str | None,
    detail: Mapping[str, Any],
    request_id: str | None,
    ip: str | None,
) -> bytes:
    """The canonical UTF-8 bytes of one event (everything but its own hash)."""
    body = {
        "action": int(action),
        "actor_id": actor_id,
        "actor_label": actor_label,
        "actor_type": actor_type,
        "detail": detail,
        "ip": ip,
        "practice_id": practice_id,
        "prev_hash": prev_hash,
        "request_id": request_id,
        "resource_id": resource_id,
        "resource_type": resource_type,
        "seq": seq,
        "ts": format_ts(ts),
        "v": CANONICAL_VERSION,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(prev_hash: str, canonical: bytes) -> str:
    """hash = SHA-256(prev_hash bytes || canonical bytes), as lowercase hex."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical).hexdigest()


def event_hash(event: Any) -> str:
    """Recompute the hash of a sealed AuditEvent (or any object with its attributes)."""
    return link_hash(event.prev_hash, event_canonical_bytes(event))


def event_canonical_bytes(event: Any) -> bytes:
    """The canonical bytes of a sealed AuditEvent."""
    return canonical_bytes(
        seq=event.seq,
        prev_hash=event.prev_hash,
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


# The same canonical bytes, built by Postgres from the stored columns of a sealed event `e`:
# the fast verifier only hashes them (with the raw prev_hash in front, which it already has).
# `detail` is stored in canonical form already, and to_json(text) escapes exactly as Python's
# json.dumps(ensure_ascii=False) does. tests/audit/test_chain.py checks byte equality with
# canonical_bytes() on awkward values.
PG_CANONICAL_SQL = """
convert_to(
    '{"action":' || e.action
    || ',"actor_id":' || coalesce(to_json(e.actor_id)::text, 'null')
    || ',"actor_label":' || to_json(e.actor_label)::text
    || ',"actor_type":' || to_json(e.actor_type)::text
    || ',"detail":' || e.detail
    || ',"ip":' || coalesce(to_json(e.ip)::text, 'null')
    || ',"practice_id":' || coalesce(to_json(e.practice_id)::text, 'null')
    || ',"prev_hash":' || to_json(e.prev_hash)::text
    || ',"request_id":' || coalesce(to_json(e.request_id)::text, 'null')
    || ',"resource_id":' || coalesce(to_json(e.resource_id)::text, 'null')
    || ',"resource_type":' || to_json(e.resource_type)::text
    || ',"seq":' || e.seq
    || ',"ts":"' || to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '"'
    || ',"v":1}',
    'UTF8')
"""
# The whole hash input: raw prev_hash || canonical bytes.
PG_HASH_INPUT_SQL = f"decode(e.prev_hash, 'hex') || {PG_CANONICAL_SQL}"


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last sealed event: its seq (0 for an empty chain) and hash (genesis if empty)."""

    seq: int
    hash: str


def chain_head(*, using: str = "default") -> ChainHead:
    """The current head of the sealed chain."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash FROM {TABLE} WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1"  # noqa: S608 - constant table name
        )
        row = cursor.fetchone()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), row[1])


def pending_count(*, using: str = "default") -> int:
    """How many committed events wait for integration (the unsealed tail)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE} WHERE seq IS NULL")  # noqa: S608 - constant table name
        return int(cursor.fetchone()[0])


def chain_integrate(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int | None = None,
    wait: bool = True,
    using: str = "default",
) -> int:
    """Seal pending events into the chain in batches; returns how many were sealed.

    With wait=False it returns 0 at once when another integrator holds the lock (that one
    loops until nothing is pending, so the work still gets done).
    """
    sealed = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        n = _integrate_one_batch(batch_size=batch_size, wait=wait, using=using)
        if n is None:
            break  # the holder re-checks after it releases the lock (below), so it sees ours
        sealed += n
        batches += 1
        # Re-check only now, after our batch committed and the lock was released: a writer
        # whose try-lock failed while we held it committed before we released, but possibly
        # after our SELECT of pending rows, so it relies on this check to get sealed.
        if n < batch_size and not _pending_exists(using=using):
            break
    return sealed


def _pending_exists(*, using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {TABLE} WHERE seq IS NULL)")  # noqa: S608 - constant table name
        return bool(cursor.fetchone()[0])


def _integrate_one_batch(*, batch_size: int, wait: bool, using: str) -> int | None:
    ids = _seal_one_batch(batch_size=batch_size, wait=wait, using=using)
    if ids is None:
        return None
    if ids:
        for listener in SEAL_LISTENERS:
            listener(ids)
    return len(ids)


def _seal_one_batch(*, batch_size: int, wait: bool, using: str) -> list[int] | None:
    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    return None
        # On SQLite the write below takes the database lock; SQLite has one writer at a time.
        head = chain_head(using=using)
        cursor.execute(
            f"SELECT id, {', '.join(EVENT_COLUMNS)} FROM {TABLE} "  # noqa: S608 - constant names
            "WHERE seq IS NULL ORDER BY id LIMIT %s",
            [batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return []
        ids, seqs, prevs, hashes = _seal(rows, head)
        if connection.vendor == "postgresql":
            cursor.execute(
                f"UPDATE {TABLE} AS t SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "  # noqa: S608 - constant table name
                "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) "
                "AS v(id, seq, prev_hash, hash) WHERE t.id = v.id",
                [ids, seqs, prevs, hashes],
            )
        else:
            cursor.executemany(
                f"UPDATE {TABLE} SET seq = %s, prev_hash = %s, hash = %s WHERE id = %s",  # noqa: S608 - constant table name
                list(zip(seqs, prevs, hashes, ids, strict=True)),
            )
        return ids


def _seal(
    rows: Iterable[tuple], head: ChainHead
) -> tuple[list[int], list[int], list[str], list[str]]:
    ids: list[int] = []
    seqs: list[int] = []
    prevs: list[str] = []
    hashes: list[str] = []
    seq, prev = head.seq, head.hash
    for row in rows:
        (
            pk,
            action,
            actor_id,
            actor_label,
            actor_type,
            detail,
            ip,
            practice_id,
            request_id,
            resource_id,
            resource_type,
            ts,
        ) = row
        seq += 1
        if isinstance(ts, str):  # SQLite hands back text
            ts = datetime.fromisoformat(ts)
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=UTC)
        canonical = canonical_bytes(
            seq=seq,
            prev_hash=prev,
            ts=ts,
            actor_type=actor_type,
            actor_id=actor_id,
            actor_label=actor_label,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            practice_id=practice_id,
            detail=json.loads(detail),
            request_id=request_id,
            ip=ip,
        )
        digest = link_hash(prev, canonical)
        ids.append(pk)
        seqs.append(seq)
        prevs.append(prev)
        hashes.append(digest)
        prev = digest
    return ids, seqs, prevs, hashes
