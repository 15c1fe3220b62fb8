"""Voice bridge benchmark: our Daphne + bridge against a bare relay, with 1, 50 and 200 calls.

Everything runs on loopback: the fake realtime model (bench.voice_load, its own process,
stamping every 20 ms audio delta with call, sequence and send time and checking the stamps of
caller frames), one fresh Daphne per phase serving either the bare relay (bench/voice_relay.py)
or our app, and the fake Twilio calls driven by a separate process per phase (bench.voice_load
drive). Relay and ours alternate per call count, with identical fakes, so "added" compares like
with like. Per phase it reports latency per frame in each direction (p50/p99, sending fake to
receiving fake), frames lost/reordered/misdelivered, Daphne CPU and RSS per call, barge-in
(speech_started -> clear at Twilio, truncate error against audio actually played), how fast and
how completely realtime sockets close after hang-up, and the CPU of the load side (model,
driver) and of everything else on the machine, so a reader can tell who saturated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL_COUNTS = tuple(int(n) for n in os.environ.get("BENCH_VOICE_CALLS", "1,50,200").split(","))
MEASURE_S = float(os.environ.get("BENCH_VOICE_SECONDS", "8"))
KINDS = {"relay": "bench.voice_relay:application", "ours": "config.asgi:application"}
# Before each phase, wait (bounded) for the rest of the machine to be quiet: other engineers'
# tests share these 2 cores, and a phase measured under their load measures them.
QUIET_BUSY_PCT = float(os.environ.get("BENCH_VOICE_QUIET_PCT", "30"))  # % of one core
QUIET_WAIT_S = float(os.environ.get("BENCH_VOICE_QUIET_WAIT", "45"))
# The measured processes (Daphne, the fake model, the driver) run at this nice level when the
# bench may raise priority (root), so the bench's own processes share fairly. With the kernel's
# autogroup scheduling (on here), nice only ranks threads within one session's group; other
# sessions (other engineers' tests) still get an equal share of the cores. Raising the group's
# priority over theirs is opt-in (BENCH_VOICE_AUTOGROUP_NICE=-10) because it slows their runs;
# by default the bench waits for a quiet machine instead and records how busy it was.
NICE = int(os.environ.get("BENCH_VOICE_NICE", "-10"))
AUTOGROUP_NICE = os.environ.get("BENCH_VOICE_AUTOGROUP_NICE")
# Targets from the issue.
ADDED_P50_MS = 0.5
RESOURCE_RATIO = 1.5
TRUNCATE_P99_MS = 40.0


def _busy_pct(seconds: float = 1.0) -> float:
    """CPU busy on the whole machine over `seconds`, in % of one core."""
    import time

    def sample() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
        return sum(values) - values[3] - values[4], sum(values)

    busy0, total0 = sample()
    time.sleep(seconds)
    busy1, total1 = sample()
    return (busy1 - busy0) / max(1, total1 - total0) * 100 * (os.cpu_count() or 1)


async def _wait_quiet() -> float:
    """Wait until the machine is quiet or QUIET_WAIT_S passed; the last busy figure."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + QUIET_WAIT_S
    busy = await asyncio.to_thread(_busy_pct)
    while busy > QUIET_BUSY_PCT and loop.time() < deadline:
        busy = await asyncio.to_thread(_busy_pct)
    return busy


def _prioritise(pid: int) -> bool:
    """Run every thread of `pid` at NICE (Linux nice is per thread); False if not allowed."""
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        tids = [pid]
    try:
        for tid in tids:
            os.setpriority(os.PRIO_PROCESS, tid, NICE)
        if AUTOGROUP_NICE is not None:
            Path(f"/proc/{pid}/autogroup").write_text(AUTOGROUP_NICE)
    except (PermissionError, OSError):
        return False
    return True


def _saturation(row: dict) -> str:
    """Which side, if any, ran out of CPU during the window."""
    notes = []
    if row["daphne_cpu_pct"] >= 90:
        notes.append("server")
    if row["model_cpu_pct"] + row["driver_cpu_pct"] >= 90 or row["driver_lag_p99_ms"] >= 10:
        notes.append("load side")
    if row["other_cpu_pct"] >= 25:
        notes.append("other processes")
    return "+".join(notes) or "none"


async def _phase(
    kind: str, calls: int, *, model_port: int, model_pid: int, db: str, first_index: int, seed: bool
) -> dict:
    from tests.fakes.stack import AUTH_TOKEN, PUBLIC_BASE_URL, VoiceStack, new_call_sid
    from tests.fakes.twilio_client import sign

    async with VoiceStack(
        database_url=db if kind == "ours" else None,
        realtime_url=f"http://127.0.0.1:{model_port}/v1",
        asgi_app=KINDS[kind],
        seed=seed,
        extra_env={"LOG_LEVEL": "WARNING"},
        # Under full load a handshake can wait more than Daphne's default 5 s.
        daphne_args=("--websocket_connect_timeout", "30"),
    ) as stack:
        # Before anything starts Daphne's worker threads: they inherit the main thread's nice.
        _prioritise(stack.process.pid)
        sids = [new_call_sid() for _ in range(calls + 1)]  # the first warms the server up
        if kind == "ours":
            tokens: list[str] = []
            for chunk in range(0, len(sids), 10):
                tokens += await asyncio.gather(
                    *(stack.incoming(sid) for sid in sids[chunk : chunk + 10])
                )
        else:
            tokens = ["relay"] * len(sids)
        calls_file = Path(stack._tmp.name) / "calls.json"
        calls_file.write_text(json.dumps(list(zip(sids, tokens, strict=True))))
        niced = _prioritise(stack.process.pid)
        busy_before = await _wait_quiet()
        signature = sign(
            PUBLIC_BASE_URL.replace("https://", "wss://") + "/voice/twilio/stream/", AUTH_TOKEN
        )
        driver = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.voice_load",
            "drive",
            "--kind",
            kind,
            "--port",
            str(stack.port),
            "--daphne-pid",
            str(stack.process.pid),
            "--model-port",
            str(model_port),
            "--model-pid",
            str(model_pid),
            "--signature",
            signature,
            "--calls",
            str(calls_file),
            "--first-index",
            str(first_index),
            "--seconds",
            str(MEASURE_S),
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        niced = _prioritise(driver.pid) and niced
        out, err = await driver.communicate()
        if driver.returncode != 0:
            raise RuntimeError(f"driver failed:\n{err.decode()[-3000:]}")
        row = json.loads(out.decode().strip().splitlines()[-1])
        row["loop"] = (
            err.decode().split("loop=", 1)[-1].split()[0] if "loop=" in err.decode() else ""
        )
        row["busy_before_pct"] = busy_before
        row["niced"] = niced
        row["saturated"] = _saturation(row)
        return row


def _added(rows: list[dict]) -> list[dict]:
    added = []
    for calls in CALL_COUNTS:
        relay = next(r for r in rows if r["server"] == "relay" and r["calls"] == calls)
        ours = next(r for r in rows if r["server"] == "ours" and r["calls"] == calls)
        added.append(
            {
                "calls": calls,
                "added_in_p50_ms": ours["in_p50_ms"] - relay["in_p50_ms"],
                "added_in_p99_ms": ours["in_p99_ms"] - relay["in_p99_ms"],
                "added_out_p50_ms": ours["out_p50_ms"] - relay["out_p50_ms"],
                "added_out_p99_ms": ours["out_p99_ms"] - relay["out_p99_ms"],
                "cpu_ratio": ours["cpu_pct_per_call"] / relay["cpu_pct_per_call"]
                if relay["cpu_pct_per_call"]
                else float("nan"),
                "rss_ratio": ours["rss_mb_per_call"] / relay["rss_mb_per_call"]
                if relay["rss_mb_per_call"]
                else float("nan"),
                "frame_errors": ours["lost"] + ours["reordered"] + ours["misdelivered"],
                "trunc_err_p99_ms": ours["trunc_err_p99_ms"],
                "rt_open_1s_after": ours["rt_open_1s_after"],
                "saturated": f"relay:{relay['saturated']} ours:{ours['saturated']}",
            }
        )
    return added


def _targets(added: list[dict]) -> dict:
    """Each target of the issue, met or not, with the figure it was judged on."""
    verdicts = {}
    for row in added:
        n = row["calls"]
        verdicts[f"{n}: added p50 <= {ADDED_P50_MS} ms both ways"] = (
            row["added_in_p50_ms"] <= ADDED_P50_MS and row["added_out_p50_ms"] <= ADDED_P50_MS
        )
        verdicts[f"{n}: no frame lost/reordered/misdelivered"] = row["frame_errors"] == 0
        verdicts[f"{n}: CPU per call <= {RESOURCE_RATIO}x relay"] = (
            row["cpu_ratio"] <= RESOURCE_RATIO
        )
        verdicts[f"{n}: RSS per call <= {RESOURCE_RATIO}x relay"] = (
            row["rss_ratio"] <= RESOURCE_RATIO
        )
        verdicts[f"{n}: truncate error p99 <= {TRUNCATE_P99_MS} ms"] = (
            isinstance(row["trunc_err_p99_ms"], float)
            and row["trunc_err_p99_ms"] <= TRUNCATE_P99_MS
        )
        verdicts[f"{n}: realtime sockets open 1 s after hang-up = 0"] = row["rt_open_1s_after"] == 0
    return verdicts


async def _run() -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    model = subprocess.Popen(  # noqa: ASYNC220 -- our own fake server; returns at once
        [sys.executable, "-m", "bench.voice_load", "model"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    rows = []
    load_before = os.getloadavg()
    try:
        model_port = int(model.stdout.readline())
        _prioritise(model.pid)
        with tempfile.TemporaryDirectory(prefix="clarion-vbench-") as tmp:
            db = f"sqlite:///{tmp}/voice.sqlite3"
            index = 0
            seeded = False
            for calls in CALL_COUNTS:
                for kind in KINDS:
                    row = await _phase(
                        kind,
                        calls,
                        model_port=model_port,
                        model_pid=model.pid,
                        db=db,
                        first_index=index,
                        seed=kind == "ours" and not seeded,
                    )
                    seeded = seeded or kind == "ours"
                    index += calls
                    rows.append(row)
                    print(f"   {kind} {calls} calls: {json.dumps(row)}", flush=True)
    finally:
        model.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            model.wait(5)
    added = _added(rows)
    return {
        "title": "Voice bridge vs bare relay (one Daphne per phase, loopback fakes)",
        "rows": rows,
        "added": added,
        "targets": _targets(added),
        "measure_seconds": MEASURE_S,
        "cpus": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "autogroup_nice": AUTOGROUP_NICE,
    }


def run() -> dict:
    """Entry point for `python -m bench voice`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    result = asyncio.run(_run())
    from bench.__main__ import print_table

    print_table("Added by our bridge over the bare relay", result["added"])
    print_table("Targets", [{"target": k, "met": v} for k, v in result["targets"].items()])
    return result
