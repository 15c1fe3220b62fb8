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
`audit_record` inserts the event and a row naming it in the pending queue
(``audit_pendingevent``), inside the business transaction and without any lock, so business
transactions never wait on each other. `chain_integrate` then seals the committed pending
events, in insertion order, under one advisory lock, so there is only ever one integrator and
the chain cannot fork; only committed rows are visible to it, so a rolled-back business
transaction leaves no hole. Sealing an event inserts its link (seq, prev_hash, hash) into
``audit_chainlink`` and deletes its pending row; the event row itself is never touched.

On Postgres the sealing runs in the database, one round trip per integration: the procedure
``audit_chain_integrate_all`` (PG_INTEGRATE_PROCEDURE, installed by migration 0004) loops
"check for pending rows; try-lock (session level); read the head; hash the pending rows with
sha256() over the canonical bytes; INSERT their links and DELETE their pending rows; COMMIT;
unlock". A writer whose try-lock fails gives up and relies on the holder; the holder's check
for pending rows at the top of its next round runs after its unlock, and the failed writer
committed before that unlock, so the holder sees and seals its event. Inside a caller's
transaction (no COMMIT possible) the function ``audit_chain_integrate`` does one batch under a
transaction-scoped lock. On SQLite the Python integrator below does the same (SQLite has one
writer at a time).
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
LINK_TABLE = "audit_chainlink"
PENDING_TABLE = "audit_pendingevent"
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


_SCALARS = (str, int, bool, type(None))


def _check_detail_value(value: Any, path: str) -> None:
    # Exact-type test first: this runs on every audited read and write, and almost every
    # value is a plain str or int (bool is an int subclass, so type() lists it apart).
    if type(value) in _SCALARS:
        return
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


# The same canonical bytes, built by Postgres from the stored columns of an event `e` and its
# link `l`: the fast verifier only hashes them (with the raw prev_hash in front, which it
# already has).
# `detail` is stored in canonical form already, and to_json(text) escapes exactly as Python's
# json.dumps(ensure_ascii=False) does. tests/audit/test_chain.py checks byte equality with
# canonical_bytes() on awkward values.
# In three parts around prev_hash and seq, so the integrator (below) can splice in the values
# it is assigning: A || <prev_hash JSON string> || B || <seq> || C.
_PG_PART_A = """
    '{"action":' || e.action
    || ',"actor_id":' || coalesce(to_json(e.actor_id)::text, 'null')
    || ',"actor_label":' || to_json(e.actor_label)::text
    || ',"actor_type":' || to_json(e.actor_type)::text
    || ',"detail":' || e.detail
    || ',"ip":' || coalesce(to_json(e.ip)::text, 'null')
    || ',"practice_id":' || coalesce(to_json(e.practice_id)::text, 'null')
    || ',"prev_hash":'"""
_PG_PART_B = """
    ',"request_id":' || coalesce(to_json(e.request_id)::text, 'null')
    || ',"resource_id":' || coalesce(to_json(e.resource_id)::text, 'null')
    || ',"resource_type":' || to_json(e.resource_type)::text
    || ',"seq":'"""
_PG_PART_C = """
    ',"ts":"' || to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '","v":1}'"""
PG_CANONICAL_SQL = (
    f"convert_to({_PG_PART_A} || to_json(l.prev_hash)::text || {_PG_PART_B} || l.seq"
    f" || {_PG_PART_C}, 'UTF8')"
)
# The whole hash input: raw prev_hash || canonical bytes.
PG_HASH_INPUT_SQL = f"decode(l.prev_hash, 'hex') || {PG_CANONICAL_SQL}"

# The verifier's cheaper way to the same bytes. Each to_json() call costs Postgres a type
# lookup and a character-by-character escape; together they were more than a third of the
# verifier's server time. A string holding no '"', no '\' and no control character encodes
# as itself between quotes, so for a row whose text columns hold none of those, one concat()
# gives the canonical bytes exactly; any other row takes PG_CANONICAL_SQL. (prev_hash goes
# in plain: the verifier hashes a row only after checking its prev_hash against the previous
# hash, which is hex. detail is stored canonical and goes in as it is in both forms.)
# tests/audit/test_chain.py pins both branches to canonical_bytes().
_PG_TEXT_COLUMNS = (
    "actor_id",
    "actor_label",
    "actor_type",
    "ip",
    "practice_id",
    "request_id",
    "resource_id",
    "resource_type",
)
PG_NEEDS_ESCAPING_SQL = (
    "(" + " || ".join(f"coalesce(e.{c}, '')" for c in _PG_TEXT_COLUMNS) + ")"
    " ~ '[\\x01-\\x1f\"\\\\]'"
)


def _pg_plain_string(column: str) -> str:
    return f"""coalesce('"' || e.{column} || '"', 'null')"""


_PG_PLAIN_CANONICAL_SQL = f"""convert_to(concat(
    '{{"action":', e.action,
    ',"actor_id":', {_pg_plain_string("actor_id")},
    ',"actor_label":', {_pg_plain_string("actor_label")},
    ',"actor_type":', {_pg_plain_string("actor_type")},
    ',"detail":', e.detail,
    ',"ip":', {_pg_plain_string("ip")},
    ',"practice_id":', {_pg_plain_string("practice_id")},
    ',"prev_hash":"', l.prev_hash,
    '","request_id":', {_pg_plain_string("request_id")},
    ',"resource_id":', {_pg_plain_string("resource_id")},
    ',"resource_type":', {_pg_plain_string("resource_type")},
    ',"seq":', l.seq,
    ',"ts":"', to_char(e.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    '","v":1}}'), 'UTF8')"""
# NULL when the link's event row is gone (concat() would skip the NULLs and build bytes).
PG_VERIFY_CANONICAL_SQL = (
    f"CASE WHEN e.id IS NULL THEN NULL WHEN {PG_NEEDS_ESCAPING_SQL} THEN {PG_CANONICAL_SQL} "
    f"ELSE {_PG_PLAIN_CANONICAL_SQL} END"
)

# Sealing in Postgres, so an integration costs one round trip. The caller holds the advisory
# lock. Each statement in plpgsql takes a fresh snapshot (READ COMMITTED), so the head read
# here includes the previous holder's seal. The hash is the one specified above, computed
# with Postgres' sha256() over canonical bytes built from the stored columns; audit_verify
# recomputes every hash in Python and trusts none of this. Sets (n, new_head, new_ids).
_PG_SEAL_BODY = f"""
    SELECT l.seq, l.hash INTO s, h FROM {LINK_TABLE} l ORDER BY l.seq DESC LIMIT 1;
    IF s IS NULL THEN
        s := 0;
        h := '{GENESIS_HASH}';
    END IF;
    new_ids := '{{}}';
    seqs := '{{}}';
    prevs := '{{}}';
    hashes := '{{}}';
    FOR r IN
        SELECT e.id, {_PG_PART_A} AS a, {_PG_PART_B} AS b, {_PG_PART_C} AS c
        FROM {PENDING_TABLE} p JOIN {TABLE} e ON e.id = p.event_id
        ORDER BY p.event_id LIMIT batch_size
    LOOP
        s := s + 1;
        prevs := prevs || h;
        h := encode(sha256(decode(h, 'hex')
            || convert_to(r.a || '"' || h || '"' || r.b || s || r.c, 'UTF8')), 'hex');
        new_ids := new_ids || r.id;
        seqs := seqs || s;
        hashes := hashes || h;
    END LOOP;
    n := cardinality(new_ids);
    IF n > 0 THEN
        INSERT INTO {LINK_TABLE} (seq, event_id, prev_hash, hash)
            SELECT * FROM unnest(seqs, new_ids, prevs, hashes);
        DELETE FROM {PENDING_TABLE} WHERE event_id = ANY(new_ids);
    END IF;
"""  # noqa: S608 - constant names only
_PG_SEAL_DECLARE = """
    h text;
    s bigint;
    n integer;
    r record;
    new_ids bigint[];
    seqs bigint[];
    prevs text[];
    hashes text[];
"""
# Inside a caller's transaction (the lock is transaction-scoped, the commit is the caller's):
# one batch. locked is false when nothing was pending (checked before taking the lock) or
# another integrator holds it (that one re-checks after releasing).
PG_INTEGRATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_chain_integrate(
    batch_size integer, wait boolean,
    OUT head_seq bigint, OUT ids bigint[], OUT locked boolean
) LANGUAGE plpgsql VOLATILE AS $fn$
DECLARE {_PG_SEAL_DECLARE}
BEGIN
    ids := '{{}}';
    locked := false;
    IF NOT EXISTS (SELECT 1 FROM {PENDING_TABLE}) THEN
        RETURN;
    END IF;
    IF wait THEN
        PERFORM pg_advisory_xact_lock({ADVISORY_LOCK_KEY});
    ELSIF NOT pg_try_advisory_xact_lock({ADVISORY_LOCK_KEY}) THEN
        RETURN;
    END IF;
    locked := true;
    {_PG_SEAL_BODY}
    ids := new_ids;
    head_seq := s;
END
$fn$;
"""  # noqa: S608 - constant names only
# Outside any transaction (autocommit: the after-commit path and the dedicated integrator):
# the whole protocol in one CALL. Per batch: take the session-level lock, seal, COMMIT, and
# only then unlock; the check for pending rows at the top of the next round runs after the
# unlock, so a writer whose try-lock failed while we held the lock (it committed before we
# released) is seen and sealed here. Stops when nothing is pending or the lock is busy.
PG_INTEGRATE_PROCEDURE = f"""
CREATE OR REPLACE PROCEDURE audit_chain_integrate_all(
    batch_size integer, wait boolean,
    INOUT sealed bigint DEFAULT NULL, INOUT head_seq bigint DEFAULT NULL,
    INOUT ids bigint[] DEFAULT NULL
) LANGUAGE plpgsql AS $fn$
DECLARE {_PG_SEAL_DECLARE}
BEGIN
    sealed := 0;
    ids := '{{}}';
    LOOP
        IF NOT EXISTS (SELECT 1 FROM {PENDING_TABLE}) THEN
            EXIT;
        END IF;
        IF wait THEN
            PERFORM pg_advisory_lock({ADVISORY_LOCK_KEY});
        ELSIF NOT pg_try_advisory_lock({ADVISORY_LOCK_KEY}) THEN
            EXIT;
        END IF;
        BEGIN
            {_PG_SEAL_BODY}
        EXCEPTION WHEN OTHERS THEN
            -- A session-level lock outlives the failed transaction: release it.
            PERFORM pg_advisory_unlock({ADVISORY_LOCK_KEY});
            RAISE;
        END;
        COMMIT;
        PERFORM pg_advisory_unlock({ADVISORY_LOCK_KEY});
        IF n > 0 THEN
            sealed := sealed + n;
            head_seq := s;
            ids := ids || new_ids;
        END IF;
    END LOOP;
END
$fn$;
"""  # noqa: S608 - constant names only
PG_INTEGRATE_DROP = """
DROP PROCEDURE IF EXISTS audit_chain_integrate_all(integer, boolean, bigint, bigint, bigint[]);
DROP FUNCTION IF EXISTS audit_chain_integrate(integer, boolean);
"""


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last sealed event: its seq (0 for an empty chain) and hash (genesis if empty)."""

    seq: int
    hash: str


def chain_head(*, using: str = "default") -> ChainHead:
    """The current head of the sealed chain."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT seq, hash FROM {LINK_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608 - constant table name
        )
        row = cursor.fetchone()
    return ChainHead(0, GENESIS_HASH) if row is None else ChainHead(int(row[0]), row[1])


def pending_count(*, using: str = "default") -> int:
    """How many committed events wait for integration (the unsealed tail)."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {PENDING_TABLE}")  # noqa: S608 - constant table name
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
    re-checks for pending events after releasing it, so the work still gets done).
    """
    return chain_integrate_result(
        batch_size=batch_size, max_batches=max_batches, wait=wait, using=using
    )[0]


def chain_integrate_result(
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_batches: int | None = None,
    wait: bool = True,
    using: str = "default",
) -> tuple[int, int]:
    """Like chain_integrate: (events sealed, head seq after the last seal or 0 if none)."""
    if connections[using].vendor == "postgresql":
        return _integrate_postgres(
            batch_size=batch_size, max_batches=max_batches, wait=wait, using=using
        )
    sealed = head = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        n = _integrate_one_batch(batch_size=batch_size, using=using)
        sealed += n
        batches += 1
        # Re-check only after the batch committed: an event committed meanwhile waits for us.
        if n < batch_size and not _pending_exists(using=using):
            break
    if sealed:
        head = chain_head(using=using).seq
    return sealed, head


def chain_integrate_round(*, batch_size: int = DEFAULT_BATCH_SIZE, using: str = "default") -> int:
    """Seal batches until one comes back short (or nothing is pending); how many were sealed.

    For integrators that run again on their own shortly after (the background thread,
    `audit_integrate --follow`): it waits for the lock instead of relying on the holder, and
    stops at the first short batch, so under steady load each round seals what gathered
    since the last one in one large batch rather than chasing every new commit in tiny ones.
    """
    connection = connections[using]
    if connection.in_atomic_block:
        raise RuntimeError("chain_integrate_round commits each batch; call it outside atomic()")
    sealed = 0
    while True:
        if connection.vendor == "postgresql":
            # Autocommit: the function's transaction-scoped lock ends with its statement.
            with connection.cursor() as cursor:
                _, ids, _ = _seal_batch_postgres(cursor, batch_size=batch_size, wait=True)
            n = len(ids)
        else:
            n = _integrate_one_batch(batch_size=batch_size, using=using)
        sealed += n
        if n < batch_size:
            return sealed


def _pending_exists(*, using: str) -> bool:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {PENDING_TABLE})")  # noqa: S608 - constant table name
        return bool(cursor.fetchone()[0])


def _integrate_postgres(
    *, batch_size: int, max_batches: int | None, wait: bool, using: str
) -> tuple[int, int]:
    connection = connections[using]
    if not connection.in_atomic_block and max_batches is None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "CALL audit_chain_integrate_all(%s, %s, NULL, NULL, NULL)",
                    [batch_size, wait],
                )
                sealed, head_seq, ids = cursor.fetchone()
        except Exception:
            # The procedure unlocks on errors it can catch; if its COMMIT itself failed, the
            # session-level lock would outlive the call: ending the session releases it.
            connection.close()
            raise
        _notify_sealed(ids)
        return sealed, head_seq or 0
    with connection.cursor() as cursor:
        sealed = head = 0
        batches = 0
        while max_batches is None or batches < max_batches:
            # Every call after the first is also the re-check after our previous release
            # (or, inside a transaction, after the commits of other writers meanwhile).
            head_seq, ids, locked = _seal_batch_postgres(cursor, batch_size=batch_size, wait=wait)
            if not locked:
                break  # nothing pending, or the holder will re-check after its release
            batches += 1
            if ids:
                sealed += len(ids)
                head = head_seq
    return sealed, head


def _seal_batch_postgres(cursor: Any, *, batch_size: int, wait: bool) -> tuple[int, list, bool]:
    """One batch through the database function: (head seq, sealed ids, whether it locked)."""
    cursor.execute(
        "SELECT head_seq, ids, locked FROM audit_chain_integrate(%s, %s)", [batch_size, wait]
    )
    head_seq, ids, locked = cursor.fetchone()
    ids = ids or []
    _notify_sealed(ids)
    return head_seq or 0, ids, locked


def _notify_sealed(ids: list[int]) -> None:
    if ids:
        for listener in SEAL_LISTENERS:
            listener(ids)


def _integrate_one_batch(*, batch_size: int, using: str) -> int:
    ids = _seal_one_batch(batch_size=batch_size, using=using)
    _notify_sealed(ids)
    return len(ids)


def _seal_one_batch(*, batch_size: int, using: str) -> list[int]:
    # The Python integrator, for SQLite: atomic(immediate) takes the database write lock
    # before the head is read, and SQLite has one writer at a time, so no advisory lock is
    # needed.
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        head = chain_head(using=using)
        columns = ", ".join(f"e.{c}" for c in EVENT_COLUMNS)
        cursor.execute(
            f"SELECT e.id, {columns} FROM {PENDING_TABLE} p JOIN {TABLE} e "  # noqa: S608 - constant names
            "ON e.id = p.event_id ORDER BY p.event_id LIMIT %s",
            [batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return []
        ids, seqs, prevs, hashes = _seal(rows, head)
        cursor.executemany(
            f"INSERT INTO {LINK_TABLE} (seq, event_id, prev_hash, hash) VALUES (%s, %s, %s, %s)",  # noqa: S608 - constant table name
            list(zip(seqs, ids, prevs, hashes, strict=True)),
        )
        cursor.executemany(
            f"DELETE FROM {PENDING_TABLE} WHERE event_id = %s",  # noqa: S608 - constant table name
            [(pk,) for pk in ids],
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
