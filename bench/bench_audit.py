"""Audit trail figures: append throughput (1 and 8 writers) against an unchained INSERT,
integration lag, verify speed on 1,000,000 events, export speed and peak memory.

Runs in its own database (<DATABASE_URL name>_bench_audit on Postgres; a scratch SQLite
file otherwise), recreated each run. On SQLite only the single-writer and verify figures
mean anything (SQLite has one writer at a time).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import statistics
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

EVENTS_1 = int(os.environ.get("BENCH_AUDIT_EVENTS_1", "2000"))
EVENTS_PER_WRITER_8 = int(os.environ.get("BENCH_AUDIT_EVENTS_8", "600"))
VERIFY_EVENTS = int(os.environ.get("BENCH_AUDIT_VERIFY_EVENTS", "1000000"))

ROW = {
    "actor_type": "user",
    "actor_id": "42",
    "actor_label": "frontdesk",
    "action": 104,
    "resource_type": "clinic.patient",
    "resource_id": "7d3c1f5e-3f63-4d59-9a53-3f0a3c1d9b10",
    "practice_id": "0b7b3f55-54b8-4d61-a0a3-f6c4e0f7d2a1",
    "detail": '{"fields":["date_of_birth","last_name"],"view":"admin_change"}',
    "request_id": "4be0643f1d98573b97cdca98a65347dd",
    "ip": "10.1.2.3",
}


def _setup() -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    from django.conf import settings

    db = settings.DATABASES["default"]
    if "postgresql" in db["ENGINE"]:
        import psycopg

        db["NAME"] = f"{db['NAME']}_bench_audit"
        dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            if not conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
            ).fetchone():
                conn.execute(f'CREATE DATABASE "{db["NAME"]}"')
    else:
        db["NAME"] = str(Path(tempfile.gettempdir()) / "clarion_bench_audit.sqlite3")
    settings.AUDIT_WORM_DIR = Path(tempfile.mkdtemp(prefix="bench-worm-"))
    settings.AUDIT_CHECKPOINT_KEY_FILE = settings.AUDIT_WORM_DIR / "key"
    settings.AUDIT_ALLOW_TEST_FLUSH = False
    import django

    django.setup()
    from django.db import connection

    return connection.vendor


def _recreate_tables() -> None:
    from django.db import connection

    from audit.db import triggers_install
    from audit.models import AuditEvent

    with connection.cursor() as cursor:
        for table in ("audit_auditevent", "bench_plain", "bench_locked"):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    with connection.schema_editor() as editor:
        editor.create_model(AuditEvent)
        triggers_install(editor)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Same columns, indexes and identity as the audit table: the unchained baseline.
            cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING ALL)")
            cursor.execute("CREATE TABLE bench_locked (LIKE audit_auditevent INCLUDING ALL)")
        else:
            cursor.execute("CREATE TABLE bench_plain AS SELECT * FROM audit_auditevent WHERE 0")
            cursor.execute("CREATE TABLE bench_locked AS SELECT * FROM audit_auditevent WHERE 0")


COLS = "ts, actor_type, actor_id, actor_label, action, resource_type, resource_id, practice_id, detail, request_id, ip"


def _values() -> list:
    from django.utils import timezone

    return [timezone.now(), *(ROW[k] for k in COLS.split(", ")[1:])]


def _plain_insert() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO bench_plain ({COLS}) VALUES ({', '.join(['%s'] * 11)})", _values()
        )


def _locked_chain_insert() -> None:
    """The alternative: lock, read head, hash, insert, all inside the business transaction."""
    from django.db import connection, transaction

    from audit.chain import ADVISORY_LOCK_KEY, GENESIS_HASH, canonical_bytes, link_hash

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_KEY])
        cursor.execute("SELECT seq, hash FROM bench_locked ORDER BY seq DESC NULLS LAST LIMIT 1")
        row = cursor.fetchone()
        seq, prev = (row[0] + 1, row[1]) if row and row[0] else (1, GENESIS_HASH)
        values = _values()
        fields = dict(zip(COLS.split(", "), values, strict=True))
        fields["detail"] = json.loads(fields["detail"])
        digest = link_hash(prev, canonical_bytes(seq=seq, prev_hash=prev, **fields))
        cursor.execute(
            f"INSERT INTO bench_locked ({COLS}, seq, prev_hash, hash) VALUES ({', '.join(['%s'] * 14)})",
            [*values, seq, prev, digest],
        )


class LagMeter:
    """Commit time per event id (from the writer) and seal time per id (from the integrator)."""

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}
        self.sealed: dict[int, float] = {}

    def on_sealed(self, ids: list[int]) -> None:
        now = time.perf_counter()
        for i in ids:
            self.sealed.setdefault(i, now)

    def lags_ms(self) -> list[float]:
        return [(self.sealed[i] - t) * 1000 for i, t in self.committed.items() if i in self.sealed]


def _audit_record_insert(meter: LagMeter) -> None:
    """One audit_record call in autocommit mode (the single INSERT is its own transaction)."""
    from audit.actions import AuditAction
    from audit.actors import Actor
    from audit.services import audit_record

    # Conservative: lag counts from before the INSERT (with on_commit integration the call
    # only returns after sealing, so the moment of commit is not observable from here).
    started = time.perf_counter()
    event = audit_record(
        action=AuditAction.PATIENT_VIEW,
        actor=Actor("user", ROW["actor_id"], ROW["actor_label"]),
        resource_type=ROW["resource_type"],
        resource_id=ROW["resource_id"],
        practice_id=ROW["practice_id"],
        detail=json.loads(ROW["detail"]),
    )
    meter.committed[event.id] = started


def _run_writers(writers: int, per_writer: int, work) -> float:
    from django.db import connection

    barrier = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(per_writer):
                work()
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return writers * per_writer / elapsed


def _forks_in(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT seq, prev_hash, lag(hash) OVER (ORDER BY seq) AS p, "
            f"lag(seq) OVER (ORDER BY seq) AS ps FROM {table} WHERE seq IS NOT NULL) x "
            "WHERE (p IS NOT NULL AND p <> prev_hash) OR (ps IS NOT NULL AND seq <> ps + 1)"
        )
        broken = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(DISTINCT seq), count(seq) FROM {table}")
        distinct, sealed = cursor.fetchone()
    return broken + (sealed - distinct)


def _throughput_rows(vendor: str) -> tuple[list[dict], dict]:
    from django.conf import settings

    from audit import chain
    from audit.verify import chain_verify

    rows: list[dict] = []
    extra: dict = {}
    writer_counts = [1, 8] if vendor == "postgresql" else [1]
    for writers in writer_counts:
        per_writer = EVENTS_1 if writers == 1 else EVENTS_PER_WRITER_8
        _recreate_tables()
        baseline = _run_writers(writers, per_writer, _plain_insert)
        rows.append(
            {
                "measure": "append",
                "writers": writers,
                "design": "unchained INSERT (baseline)",
                "events_per_s": round(baseline),
                "vs_unchained": 1.0,
                "forks": "-",
            }
        )
        if vendor == "postgresql":
            locked = _run_writers(writers, per_writer, _locked_chain_insert)
            rows.append(
                {
                    "measure": "append",
                    "writers": writers,
                    "design": "lock held in business txn",
                    "events_per_s": round(locked),
                    "vs_unchained": round(locked / baseline, 2),
                    "forks": _forks_in("bench_locked"),
                }
            )
        for mode in ("on_commit", "integrator"):
            _recreate_tables()
            meter = LagMeter()
            chain.SEAL_LISTENERS[:] = [meter.on_sealed]
            settings.AUDIT_INTEGRATE_ON_COMMIT = mode == "on_commit"
            stop = threading.Event()
            integrator = None
            if mode == "integrator":
                integrator = threading.Thread(target=_integrator_loop, args=(stop,))
                integrator.start()
            rate = _run_writers(writers, per_writer, lambda m=meter: _audit_record_insert(m))
            stop.set()
            if integrator:
                integrator.join()
            chain.chain_integrate()  # the tail a skipped try-lock left
            chain.SEAL_LISTENERS.clear()
            settings.AUDIT_INTEGRATE_ON_COMMIT = True
            result = chain_verify(check_checkpoints=False)
            lags = sorted(meter.lags_ms())
            p99 = lags[int(len(lags) * 0.99) - 1] if lags else float("nan")
            rows.append(
                {
                    "measure": "append",
                    "writers": writers,
                    "design": f"audit_record + batch integration ({mode})",
                    "events_per_s": round(rate),
                    "vs_unchained": round(rate / baseline, 2),
                    "forks": 0
                    if result.ok and result.events >= writers * per_writer
                    else f"FAIL {result.failure}",
                    "lag_p50_ms": round(statistics.median(lags), 1) if lags else "-",
                    "lag_p99_ms": round(p99, 1),
                }
            )
    return rows, extra


def _integrator_loop(stop: threading.Event) -> None:
    from django.db import connection

    from audit.chain import chain_integrate

    try:
        while not stop.is_set():
            if not chain_integrate():
                time.sleep(0.01)
    finally:
        connection.close()


def _load_chain(n: int) -> None:
    """Generate n chained events in Python and COPY them in (no ORM, no per-row INSERT)."""
    from django.db import connection

    from audit.chain import GENESIS_HASH, canonical_bytes

    _recreate_tables()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    detail = json.loads(ROW["detail"])
    prev = GENESIS_HASH
    connection.ensure_connection()
    raw = connection.connection
    fields = ("seq", "ts", *COLS.split(", ")[1:], "prev_hash", "hash")
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY audit_auditevent ({', '.join(fields)}) FROM STDIN") as copy,
    ):
        for seq in range(1, n + 1):
            ts = start + timedelta(milliseconds=seq * 31)
            body = canonical_bytes(
                seq=seq,
                prev_hash=prev,
                ts=ts,
                actor_type=ROW["actor_type"],
                actor_id=ROW["actor_id"],
                actor_label=ROW["actor_label"],
                action=ROW["action"],
                resource_type=ROW["resource_type"],
                resource_id=ROW["resource_id"],
                practice_id=ROW["practice_id"],
                detail=detail,
                request_id=ROW["request_id"],
                ip=ROW["ip"],
            )
            digest = hashlib.sha256(bytes.fromhex(prev) + body).hexdigest()
            copy.write_row(
                (
                    seq,
                    ts,
                    ROW["actor_type"],
                    ROW["actor_id"],
                    ROW["actor_label"],
                    ROW["action"],
                    ROW["resource_type"],
                    ROW["resource_id"],
                    ROW["practice_id"],
                    ROW["detail"],
                    ROW["request_id"],
                    ROW["ip"],
                    prev,
                    digest,
                )
            )
            prev = digest
    raw.commit()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditevent")


def _verify_and_export_rows(vendor: str) -> list[dict]:
    from django.db import connection

    from audit.exports import export_csv_lines, export_jsonl_lines
    from audit.models import AuditEvent
    from audit.verify import chain_verify

    rows: list[dict] = []
    if vendor != "postgresql":
        return rows
    t0 = time.perf_counter()
    _load_chain(VERIFY_EVENTS)
    rows.append(
        {
            "measure": "load (python chain + COPY)",
            "events": VERIFY_EVENTS,
            "per_s": round(VERIFY_EVENTS / (time.perf_counter() - t0)),
        }
    )

    t0 = time.perf_counter()
    result = chain_verify(check_checkpoints=False)
    fast = time.perf_counter() - t0
    if not result.ok or result.events != VERIFY_EVENTS:
        raise RuntimeError(f"verify failed on the generated chain: {result.failure}")
    rows.append(
        {
            "measure": "audit_verify (fast: hash input built by Postgres)",
            "events": VERIFY_EVENTS,
            "per_s": round(VERIFY_EVENTS / fast),
        }
    )

    subset = min(100_000, VERIFY_EVENTS)
    since = VERIFY_EVENTS - subset + 1
    t0 = time.perf_counter()
    slow_result = chain_verify(since_seq=since, fast=False, check_checkpoints=False)
    slow = time.perf_counter() - t0
    if not slow_result.ok:
        raise RuntimeError(f"reference verify failed: {slow_result.failure}")
    rows.append(
        {
            "measure": "audit_verify (reference: re-serialise in Python)",
            "events": subset,
            "per_s": round(subset / slow),
        }
    )

    t0 = time.perf_counter()
    n = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")  # warm
    for _ in AuditEvent.objects.values_list(*[f.attname for f in AuditEvent._meta.fields]).iterator(
        chunk_size=20_000
    ):
        n += 1
    rows.append(
        {
            "measure": "stream all columns only (no hashing)",
            "events": n,
            "per_s": round(n / (time.perf_counter() - t0)),
        }
    )

    # CSV over all rows; JSON Lines over a fifth (same code path, keeps `make bench` short).
    for name, lines, count in (
        ("csv", export_csv_lines, VERIFY_EVENTS),
        ("jsonl", export_jsonl_lines, VERIFY_EVENTS // 5),
    ):
        t0 = time.perf_counter()
        size = sum(
            len(chunk) for chunk in lines(AuditEvent.objects.filter(seq__lte=count).order_by("seq"))
        )
        rows.append(
            {
                "measure": f"export {name}",
                "events": count,
                "per_s": round(count / (time.perf_counter() - t0)),
                "mb": round(size / 1e6),
            }
        )

    # Peak memory: traced separately (tracing slows it); flat means same peak at 10x the rows.
    for limit in (VERIFY_EVENTS // 10, VERIFY_EVENTS):
        tracemalloc.start()
        sink = io.StringIO()
        for chunk in export_csv_lines(AuditEvent.objects.filter(seq__lte=limit).order_by("seq")):
            sink.write(chunk)
            sink.seek(0)
            sink.truncate()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(
            {
                "measure": "export csv peak Python memory",
                "events": limit,
                "peak_mb": round(peak / 1e6, 1),
            }
        )
    return rows


def run() -> dict:
    """Run every audit figure."""
    vendor = _setup()
    append_rows, extra = _throughput_rows(vendor)
    other_rows = _verify_and_export_rows(vendor)
    from django.db import connection

    connection.close()
    return {
        "title": f"audit trail ({vendor})",
        "rows": append_rows + other_rows,
        "vendor": vendor,
        **extra,
    }
