"""Run the benchmarks: `python -m bench [name ...]`; prints one table, writes JSON per benchmark."""

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def discover() -> list[str]:
    """Names of the benchmark modules, in a stable order."""
    package_dir = Path(__file__).resolve().parent
    return sorted(
        m.name for m in pkgutil.iter_modules([str(package_dir)]) if m.name.startswith("bench_")
    )


def print_table(name: str, rows: list[dict]) -> None:
    """Print a benchmark's rows as an aligned table."""
    if not rows:
        return
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_fmt(row.get(col, "")) for col in columns] for row in rows]
    widths = [max(len(col), *(len(r[i]) for r in cells)) for i, col in enumerate(columns)]
    print(f"\n== {name} ==")
    print("  ".join(col.ljust(w) for col, w in zip(columns, widths, strict=True)))
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def main() -> int:
    """Run the selected (or all) benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark names (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    RESULTS_DIR.mkdir(exist_ok=True)
    names = [f"bench_{n.removeprefix('bench_')}" for n in args.names] or discover()
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"-- running {name} ...", flush=True)
        try:
            result = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            print(f"!! {name} failed: {exc!r}", file=sys.stderr)
            failed.append(name)
            continue
        result["seconds"] = round(time.perf_counter() - started, 2)
        (RESULTS_DIR / f"{name.removeprefix('bench_')}.json").write_text(
            json.dumps(result, indent=2, default=str)
        )
        print_table(result.get("title", name), result.get("rows", []))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
