"""Patient admin changelist (100 rows at 10,000 patients) vs an unencrypted twin; blind-index lookups.

Ours = clinic's PatientAdmin changelist: scoped, audited read, 5 decrypted columns per row.
Baseline = the same page over bench.twin.PatientPlainTwin (same columns, plaintext), same run.
Each database runs in its own worker process (bench/clinic_worker.py): SQLite always, Postgres
when DATABASE_URL points at one (the worker uses a throwaway test_<name> database).
Target: patient changelist p95 <= 80 ms.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_P95_MS = 80.0


def _worker(database_url: str | None) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings_clinic"}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-m", "bench.clinic_worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"clinic bench worker failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run() -> dict:
    """Measure on SQLite and (if configured) Postgres; return the table rows."""
    targets = [None]
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        targets.append(database_url)
    rows = []
    per_db = {}
    for target in targets:
        figures = _worker(target)
        per_db[figures["db"]] = figures
        for name, label in (
            ("patient_changelist", "patient changelist (encrypted)"),
            ("twin_changelist", "twin changelist (plaintext)"),
            ("blind_index_search", "blind-index search (last name + DOB)"),
            ("identity_check", "identity check (name + DOB)"),
        ):
            row = {
                "db": figures["db"],
                "measure": label,
                **figures[name],
                "load_1m": figures["load_average_1m"],
            }
            if name == "patient_changelist":
                row["target"] = f"p95 <= {TARGET_P95_MS:g} ms"
                row["met"] = figures[name]["p95_ms"] <= TARGET_P95_MS
            rows.append(row)
    return {
        "title": f"clinic: admin patient changelist, 100 rows of {figures['patients']:,} patients",
        "rows": rows,
        "per_db": per_db,
        "target_p95_ms": TARGET_P95_MS,
    }
