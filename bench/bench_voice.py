"""Voice bridge benchmark: our Daphne + bridge against a bare relay, with 1, 50 and 200 calls.

Everything runs on loopback in one go: the fake realtime server in its own process (stamping
every 20 ms audio delta with call, sequence and send time, and checking the stamps of caller
frames), one Daphne process for the bare relay (bench/voice_relay.py) and one for our app, and
the fake Twilio calls driven from this process. Per phase it reports added latency per frame
in each direction (p50/p99), frames lost/reordered/misdelivered, Daphne CPU and RSS per call,
barge-in (speech_started -> clear at Twilio, truncate error against audio actually played) and
the realtime connections still open 1 s after every caller hung up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL_COUNTS = tuple(int(n) for n in os.environ.get("BENCH_VOICE_CALLS", "1,50,200").split(","))
MEASURE_S = float(os.environ.get("BENCH_VOICE_SECONDS", "8"))
ITEM_MS = 2000
FRAME_S = 0.02


async def bench_script(conn) -> None:
    """Fake model: stamped 20 ms deltas in real time, 2 s items, one barge-in in the second item."""
    from tests.fakes.realtime_server import stamp_audio

    await conn.wait_audio(1, timeout=60)
    index = conn.call_index
    loop = asyncio.get_running_loop()
    begin = loop.time()
    seq = 0
    item_number = 0
    barge_frame = random.randint(40, 60)  # 0.8-1.2 s into the second item
    while True:
        item_id = f"item_b{item_number}"
        for frame in range(ITEM_MS // 20):
            if item_number == 1 and frame == barge_frame:
                await conn.speech_started(item_id=f"item_u{item_number}")
                break
            await conn.send(
                {
                    "type": "response.output_audio.delta",
                    "response_id": f"resp_{item_number}",
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": stamp_audio(index, seq),
                }
            )
            seq += 1
            await asyncio.sleep(max(0.0, begin + seq * FRAME_S - loop.time()))
        item_number += 1


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 -- loopback fake server
        return json.loads(response.read())


async def _phase(stack, fake_http: str, *, kind: str, calls: int, first_index: int) -> dict:
    from tests.fakes.stack import new_call_sid

    pid = stack.process.pid
    rss_idle = _rss_mb(pid)
    sids = [new_call_sid() for _ in range(calls)]
    if kind == "ours":
        tokens: list[str] = []
        for chunk in range(0, calls, 10):
            tokens += await asyncio.gather(
                *(stack.incoming(sid) for sid in sids[chunk : chunk + 10])
            )
    else:
        tokens = ["relay"] * calls
    twilio = [
        stack.media_call(sid, token, call_index=first_index + i, stamped=True)
        for i, (sid, token) in enumerate(zip(sids, tokens, strict=True))
    ]
    rejected = 0
    for chunk in range(0, calls, 20):
        results = await asyncio.gather(
            *(c.connect() for c in twilio[chunk : chunk + 20]), return_exceptions=True
        )
        rejected += sum(isinstance(r, BaseException) for r in results)
    twilio = [c for c in twilio if c.ws is not None]
    for c in twilio:
        c.stream_audio()
    await asyncio.sleep(1.0)
    await asyncio.to_thread(_get, f"{fake_http}/reset")
    for c in twilio:
        c.outbound_latency_ns.clear()
        c.anomalies = {"lost": 0, "reordered": 0, "misdelivered": 0}
    cpu0, t0 = _cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(MEASURE_S)
    cpu1, t1 = _cpu_seconds(pid), time.monotonic()
    rss = _rss_mb(pid)
    stats = await asyncio.to_thread(_get, f"{fake_http}/stats")
    for c in twilio:
        await c.hang_up()
    await asyncio.sleep(1.0)
    after = await asyncio.to_thread(_get, f"{fake_http}/stats")

    inbound = [ns / 1e6 for ns in stats["inbound_latency_ns"]]
    outbound = [ns / 1e6 for c in twilio for ns in c.outbound_latency_ns]
    anomalies = dict(stats["audio_anomalies"])
    for c in twilio:
        for key, value in c.anomalies.items():
            anomalies[key] += value
    clear_ms, truncate_error = [], []
    for c in twilio:
        key = str(c.call_index)
        started = stats["speech_started_ns"].get(key)
        if started and c.clears:
            clear_ms.append((c.clears[0] * 1e9 - started) / 1e6)
        if key in stats["truncation_by_call"] and c.played_at_clear_ms:
            heard_in_item = c.played_at_clear_ms[0] - ITEM_MS
            truncate_error.append(abs(stats["truncation_by_call"][key] - heard_in_item))
    cpu_pct = (cpu1 - cpu0) / (t1 - t0) * 100
    return {
        "server": kind,
        "calls": calls,
        "in_p50_ms": _pct(inbound, 0.5),
        "in_p99_ms": _pct(inbound, 0.99),
        "out_p50_ms": _pct(outbound, 0.5),
        "out_p99_ms": _pct(outbound, 0.99),
        "frames": len(inbound) + len(outbound),
        "lost": anomalies["lost"],
        "reordered": anomalies["reordered"],
        "misdelivered": anomalies["misdelivered"],
        "cpu_pct_per_call": cpu_pct / calls,
        "cpu_pct_total": cpu_pct,
        "rss_mb_per_call": max(0.0, rss - rss_idle) / calls,
        "clear_p50_ms": _pct(clear_ms, 0.5) if kind == "ours" else "",
        "clear_p99_ms": _pct(clear_ms, 0.99) if kind == "ours" else "",
        "trunc_err_p99_ms": _pct(truncate_error, 0.99) if kind == "ours" else "",
        "barge_ins": len(truncate_error) if kind == "ours" else "",
        "rt_open_1s_after": after["open_connections"],
        "rejected_connects": rejected,
    }


async def _run() -> dict:
    from tests.fakes.stack import VoiceStack

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    fake = subprocess.Popen(  # noqa: ASYNC220 -- our own fake server; returns at once
        [
            sys.executable,
            "-m",
            "tests.fakes.realtime_server",
            "--measure",
            "--script",
            "bench.bench_voice:bench_script",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(fake.stdout.readline())
        fake_http = f"http://127.0.0.1:{port}"
        rows = []
        index = 0
        for kind, app in (
            ("relay", "bench.voice_relay:application"),
            ("ours", "config.asgi:application"),
        ):
            quiet = {"LOG_LEVEL": "WARNING"}
            async with VoiceStack(
                realtime_url=f"{fake_http}/v1",
                asgi_app=app,
                seed=kind == "ours",
                extra_env=quiet,
                # Under full load a handshake can wait more than Daphne's default 5 s.
                daphne_args=("--websocket_connect_timeout", "30"),
            ) as stack:
                for calls in CALL_COUNTS:
                    rows.append(
                        await _phase(stack, fake_http, kind=kind, calls=calls, first_index=index)
                    )
                    index += calls
                    print(f"   {kind} {calls} calls: {json.dumps(rows[-1])}", flush=True)
    finally:
        fake.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            fake.wait(5)
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
            }
        )
    return {
        "title": "Voice bridge vs bare relay (one Daphne, loopback fakes)",
        "rows": rows,
        "added": added,
        "measure_seconds": MEASURE_S,
        "cpus": os.cpu_count(),
        "statistics": statistics.__name__,
    }


def run() -> dict:
    """Entry point for `python -m bench voice`."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    result = asyncio.run(_run())
    from bench.__main__ import print_table

    print_table("Added by our bridge over the bare relay", result["added"])
    return result
