"""Audit trail figures: append throughput (1 and 8 writers) against an unchained INSERT,
integration lag, verify speed on 1,000,000 events, export speed and peak memory.

Runs in its own database (<DATABASE_URL name>_bench_audit on Postgres; a scratch SQLite
file otherwise), recreated each run. On SQLite only the single-writer and verify figures
mean anything (SQLite has one writer at a time).
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

EVENTS_1 = int(os.environ.get("BENCH_AUDIT_EVENTS_1", "1000"))
EVENTS_PER_WRITER_8 = int(os.environ.get("BENCH_AUDIT_EVENTS_8", "600"))
VERIFY_EVENTS = int(os.environ.get("BENCH_AUDIT_VERIFY_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "3"))
VERIFY_WORKERS = int(os.environ.get("BENCH_AUDIT_VERIFY_WORKERS", "2"))

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

    from audit.db import integrator_install, integrator_uninstall, triggers_install
    from audit.models import AuditEvent, ChainLink, PendingEvent

    with connection.cursor() as cursor:
        for table in (
            "audit_auditevent",
            "audit_chainlink",
            "audit_pendingevent",
            "bench_plain",
            "bench_locked",
        ):
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    with connection.schema_editor() as editor:
        for model in (AuditEvent, ChainLink, PendingEvent):
            editor.create_model(model)
        triggers_install(editor)
        integrator_uninstall(editor)
        integrator_install(editor)
    chain_columns = "seq bigint UNIQUE, prev_hash varchar(64), hash varchar(64)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Same columns, indexes and identity as the audit table: the unchained baseline.
            cursor.execute("CREATE TABLE bench_plain (LIKE audit_auditevent INCLUDING ALL)")
            cursor.execute("CREATE TABLE bench_locked (LIKE audit_auditevent INCLUDING ALL)")
            cursor.execute(
                f"ALTER TABLE bench_locked ADD COLUMN {chain_columns.replace(', ', ', ADD COLUMN ')}"
            )
        else:
            cursor.execute("CREATE TABLE bench_plain AS SELECT * FROM audit_auditevent WHERE 0")
            cursor.execute(
                "CREATE TABLE bench_locked AS SELECT *, NULL AS seq, NULL AS prev_hash, "
                "NULL AS hash FROM audit_auditevent WHERE 0"
            )


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


def _plain_insert_prepared() -> None:
    """The baseline INSERT through the same driver path as audit_record's (Postgres)."""
    from django.db import connection

    from audit.db import prepared_cursor

    if connection.vendor != "postgresql":
        return _plain_insert()
    with prepared_cursor(connection) as cursor:
        cursor.execute(
            f"INSERT INTO bench_plain ({COLS}) VALUES ({', '.join(['%s'] * 11)})", _values()
        )
    return None


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
    """Append rates, in ROUNDS rounds that each run every design once, back to back.

    The machine is shared, so absolute rates drift between runs; the ratio to the unchained
    INSERT is taken within each round and the median of the rounds is reported.
    """
    rows: list[dict] = []
    writer_counts = [1, 8] if vendor == "postgresql" else [1]
    modes = ("on_commit", "background", "integrator")
    for writers in writer_counts:
        per_writer = EVENTS_1 if writers == 1 else EVENTS_PER_WRITER_8
        rates: dict[str, list[float]] = {"baseline": [], "prepared": [], **{m: [] for m in modes}}
        ratios: dict[str, list[float]] = {m: [] for m in ("prepared", *modes)}
        # The same ratio against the plain INSERT sent the way audit_record sends its own
        # (server-bound and prepared), so the driver path is like for like too.
        prepared_ratios: dict[str, list[float]] = {m: [] for m in modes}
        lags: dict[str, list[float]] = {m: [] for m in modes}
        problems: dict[str, list[str]] = {m: [] for m in modes}
        for _ in range(ROUNDS):
            _recreate_tables()
            baseline = _run_writers(writers, per_writer, _plain_insert)
            rates["baseline"].append(baseline)
            prepared = _run_writers(writers, per_writer, _plain_insert_prepared)
            rates["prepared"].append(prepared)
            ratios["prepared"].append(prepared / baseline)
            for mode in modes:
                rate, mode_lags, problem = _chained_run(mode, writers, per_writer)
                rates[mode].append(rate)
                ratios[mode].append(rate / baseline)
                prepared_ratios[mode].append(rate / prepared)
                lags[mode].extend(mode_lags)
                if problem:
                    problems[mode].append(problem)
        rows.append(
            {
                "measure": "append",
                "writers": writers,
                "design": "unchained INSERT (baseline)",
                "events_per_s": round(statistics.median(rates["baseline"])),
                "vs_unchained": 1.0,
                "vs_min": 1.0,
                "forks": "-",
            }
        )
        if vendor == "postgresql":
            rows.append(
                {
                    "measure": "append",
                    "writers": writers,
                    "design": "unchained INSERT, prepared (2nd baseline)",
                    "events_per_s": round(statistics.median(rates["prepared"])),
                    "vs_unchained": round(statistics.median(ratios["prepared"]), 2),
                    "vs_min": round(min(ratios["prepared"]), 2),
                    "vs_prepared": 1.0,
                    "forks": "-",
                }
            )
        if vendor == "postgresql":
            # The alternative, once and with fewer events: it is an order of magnitude slower.
            _recreate_tables()
            baseline = _run_writers(writers, max(1, per_writer // 4), _plain_insert)
            locked = _run_writers(writers, max(1, per_writer // 4), _locked_chain_insert)
            rows.append(
                {
                    "measure": "append",
                    "writers": writers,
                    "design": "lock held in business txn",
                    "events_per_s": round(locked),
                    "vs_unchained": round(locked / baseline, 2),
                    "vs_min": round(locked / baseline, 2),
                    "forks": _forks_in("bench_locked"),
                }
            )
        for mode in modes:
            ordered = sorted(lags[mode])
            p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)] if ordered else float("nan")
            rows.append(
                {
                    "measure": "append",
                    "writers": writers,
                    "design": f"audit_record + batch integration ({mode})",
                    "events_per_s": round(statistics.median(rates[mode])),
                    "vs_unchained": round(statistics.median(ratios[mode]), 2),
                    "vs_min": round(min(ratios[mode]), 2),
                    "vs_prepared": round(statistics.median(prepared_ratios[mode]), 2)
                    if vendor == "postgresql"
                    else "-",
                    "forks": "; ".join(problems[mode]) or 0,
                    "lag_p50_ms": round(statistics.median(ordered), 1) if ordered else "-",
                    "lag_p99_ms": round(p99, 1),
                }
            )
    return rows, {"append_rounds": ROUNDS}


def _chained_run(mode: str, writers: int, per_writer: int) -> tuple[float, list[float], str]:
    """One run of audit_record writers: (events/s, lags in ms, problem or "").

    on_commit: each writer integrates after its commit (the default). integrator: writers
    only insert and a separate `manage.py audit_integrate --follow` process (its default
    pause between rounds, AUDIT_INTEGRATE_BATCH_WAIT) seals, as in production; lag is then
    seen by polling the sealed tail every few milliseconds.
    """
    from django.conf import settings

    from audit import chain
    from audit.verify import chain_verify

    _recreate_tables()
    meter = LagMeter()
    settings.AUDIT_INTEGRATE_ON_COMMIT = mode in ("on_commit", "background")
    settings.AUDIT_INTEGRATE_IN_BACKGROUND = mode == "background"
    stop = threading.Event()
    process = poller = None
    if mode == "integrator":
        process = _start_integrator_process()
        poller = threading.Thread(target=_poll_seals, args=(stop, meter))
        poller.start()
    else:
        chain.SEAL_LISTENERS[:] = [meter.on_sealed]
    problems = []
    try:
        rate = _run_writers(writers, per_writer, lambda: _audit_record_insert(meter))
        left = chain.pending_count()
        if mode == "on_commit" and left:
            problems.append(f"{left} left pending")  # the try-lock race would show here
        deadline = time.monotonic() + 60
        while mode != "on_commit" and chain.pending_count() and time.monotonic() < deadline:
            time.sleep(0.01)  # the integrator catches up; the poller times the seals
    finally:
        stop.set()
        if poller:
            poller.join()
        if process:
            process.terminate()
            process.wait(timeout=10)
        settings.AUDIT_INTEGRATE_ON_COMMIT = True
        settings.AUDIT_INTEGRATE_IN_BACKGROUND = False
        chain.SEAL_LISTENERS.clear()
    chain.chain_integrate()  # nothing, unless the integrator process failed
    result = chain_verify(check_checkpoints=False)
    if not result.ok or result.events < writers * per_writer:
        problems.append(f"FAIL {result.failure}")
    return rate, meter.lags_ms(), ", ".join(problems)


def _start_integrator_process() -> subprocess.Popen:
    """`manage.py audit_integrate --follow` on the bench database, ready when this returns."""
    from django.conf import settings

    from audit import chain

    db = settings.DATABASES["default"]
    auth = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db.get("PASSWORD") else "")
    url = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "AUDIT_CHECKPOINT_EVERY": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "audit_integrate", "--follow"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    settings.AUDIT_INTEGRATE_ON_COMMIT = False
    meter = LagMeter()
    _audit_record_insert(meter)  # ready once this one is sealed
    deadline = time.monotonic() + 60
    while chain.pending_count():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the audit_integrate process did not start")
        time.sleep(0.02)
    return process


def _poll_seals(stop: threading.Event, meter: LagMeter) -> None:
    from django.db import connection

    last = 0
    try:
        while True:
            done = stop.is_set()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT event_id, seq FROM audit_chainlink WHERE seq > %s ORDER BY seq",
                    [last],
                )
                found = cursor.fetchall()
            if found:
                meter.on_sealed([pk for pk, _ in found])
                last = found[-1][1]
            if done:
                return
            time.sleep(0.005)
    finally:
        connection.close()


def _load_chain(n: int) -> None:
    """Generate n chained events in Python and COPY them in (no ORM, no per-row INSERT).

    Every row has the same fields but seq, ts and the links, so the canonical bytes come from
    a template (checked against audit.chain.canonical_bytes on the first row); the hashes are
    still computed one by one, as the chain requires.
    """
    import psycopg
    from django.db import connection

    from audit.chain import GENESIS_HASH, canonical_bytes

    _recreate_tables()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    fields = {
        "ts": start,
        "actor_type": ROW["actor_type"],
        "actor_id": ROW["actor_id"],
        "actor_label": ROW["actor_label"],
        "action": ROW["action"],
        "resource_type": ROW["resource_type"],
        "resource_id": ROW["resource_id"],
        "practice_id": ROW["practice_id"],
        "detail": json.loads(ROW["detail"]),
        "request_id": ROW["request_id"],
        "ip": ROW["ip"],
    }
    sample = canonical_bytes(seq=1, prev_hash=GENESIS_HASH, **fields).decode()
    # Split the canonical text around prev_hash, seq and ts: a (...prev) b (...seq) c (...ts) d.
    a, rest = sample.split(GENESIS_HASH)
    b, rest = rest.split('"seq":1,')
    b += '"seq":'
    c = ',"ts":"'
    d = rest[rest.index('Z"') + 1 :]
    head, mid = a.encode(), b.encode()
    tail_c, tail_d = c.encode(), d.encode()
    sha256 = hashlib.sha256
    step = timedelta(milliseconds=31)
    constant = "\t".join(
        str(ROW[k])
        for k in (
            "actor_type",
            "actor_id",
            "actor_label",
            "action",
            "resource_type",
            "resource_id",
            "practice_id",
            "detail",
            "request_id",
            "ip",
        )
    )
    if "\\" in constant or "\n" in constant:
        raise ValueError("the bench row must need no COPY text escaping")
    prev = GENESIS_HASH
    connection.ensure_connection()
    raw = connection.connection
    columns = ("id", "ts", *COLS.split(", ")[1:])
    lines: list[str] = []
    links: list[str] = []
    # One COPY at a time per connection: the links stream through a second one.
    link_connection = psycopg.connect(**connection.get_connection_params())
    with (
        raw.cursor() as cursor,
        link_connection.cursor() as link_cursor,
        cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy,
        link_cursor.copy(
            "COPY audit_chainlink (seq, event_id, prev_hash, hash) FROM STDIN"
        ) as link_copy,
    ):
        ts = start
        for seq in range(1, n + 1):
            ts_text = ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            body = b"".join(
                (head, prev.encode(), mid, str(seq).encode(), tail_c, ts_text.encode(), tail_d)
            )
            if seq == 1 and body != canonical_bytes(seq=1, prev_hash=prev, **fields):
                raise RuntimeError("the bench template drifted from audit.chain.canonical_bytes")
            digest = sha256(bytes.fromhex(prev) + body).hexdigest()
            lines.append(f"{seq}\t{ts_text}\t{constant}\n")  # event id = seq here
            links.append(f"{seq}\t{seq}\t{prev}\t{digest}\n")
            prev = digest
            ts += step
            if len(lines) >= 10_000:
                copy.write("".join(lines))
                link_copy.write("".join(links))
                lines.clear()
                links.clear()
        copy.write("".join(lines))
        link_copy.write("".join(links))
    raw.commit()
    link_connection.commit()
    link_connection.close()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE audit_auditevent")
        cursor.execute("VACUUM ANALYZE audit_chainlink")


def _verify_and_export_rows(vendor: str) -> list[dict]:
    from django.db import connection

    from audit.exports import export_csv_lines, export_jsonl_lines
    from audit.models import AuditEvent
    from audit.selectors import audit_event_list
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

    # Every event with parallel ranges; one stream over the last fifth for comparison. Each
    # ROUNDS times: one pass swings +-25% here with whatever else the two cores are doing.
    for workers, count in ((VERIFY_WORKERS, VERIFY_EVENTS), (1, VERIFY_EVENTS // 5)):
        rates = []
        for _ in range(ROUNDS):
            t0 = time.perf_counter()
            result = chain_verify(
                since_seq=VERIFY_EVENTS - count + 1, check_checkpoints=False, workers=workers
            )
            fast = time.perf_counter() - t0
            if not result.ok or result.events != count:
                raise RuntimeError(f"verify failed on the generated chain: {result.failure}")
            rates.append(count / fast)
        rows.append(
            {
                "measure": f"audit_verify (canonical bytes from Postgres, {workers} range(s))",
                "events": count,
                "per_s": round(statistics.median(rates)),
                "per_s_min": round(min(rates)),
                "per_s_max": round(max(rates)),
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
    columns = [f.attname for f in AuditEvent._meta.fields]
    for _ in (
        AuditEvent.objects.filter(link__seq__gte=since)
        .values_list(*columns, "link__seq", "link__prev_hash", "link__hash")
        .iterator(chunk_size=20_000)
    ):
        n += 1
    rows.append(
        {
            "measure": "stream all columns only (ORM, no hashing)",
            "events": n,
            "per_s": round(n / (time.perf_counter() - t0)),
        }
    )

    # CSV over all rows, timing and resident memory in one pass (RSS sampled per chunk, so
    # the figure costs nothing: flat means the same growth at 1,000,000 rows as at 100,000).
    rss_start = _rss_mb()
    peak_at: dict[int, float] = {}
    peak = 0.0
    size = 0
    done = 0
    t0 = time.perf_counter()
    for chunk in export_csv_lines(audit_event_list(practice_ids=None)):
        size += len(chunk)
        done += chunk.count("\n")
        peak = max(peak, _rss_mb() - rss_start)
        if done >= VERIFY_EVENTS // 10 and not peak_at:
            peak_at[VERIFY_EVENTS // 10] = peak
    rows.append(
        {
            "measure": "export csv",
            "events": VERIFY_EVENTS,
            "per_s": round(VERIFY_EVENTS / (time.perf_counter() - t0)),
            "mb": round(size / 1e6),
        }
    )
    peak_at[VERIFY_EVENTS] = peak
    for limit, growth in peak_at.items():
        rows.append(
            {
                "measure": "export csv peak RSS growth",
                "events": limit,
                "peak_mb": round(growth, 1),
                "rss_mb": round(rss_start + growth, 1),
            }
        )
    # JSON Lines over a fifth (same streaming code path; keeps the bench short).
    count = VERIFY_EVENTS // 5
    t0 = time.perf_counter()
    size = sum(
        len(chunk)
        for chunk in export_jsonl_lines(
            audit_event_list(practice_ids=None).filter(link__seq__lte=count)
        )
    )
    rows.append(
        {
            "measure": "export jsonl",
            "events": count,
            "per_s": round(count / (time.perf_counter() - t0)),
            "mb": round(size / 1e6),
        }
    )
    return rows


def _rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except OSError:
        return 0.0


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
