"""Redaction engine vs the three-regex baseline (SSN, slash date, dashed phone), same run.

Quality: recall and precision per kind on the project's synthetic corpus (phi.redaction.corpus),
on whole synthetic call transcripts, and on the hand-written held-out set
(tests/phi/data/redaction_heldout.txt: written apart from the corpus templates, never used to
tune lexicons, so it shows how the rules generalise; the corpus figures are a ceiling). Speed, on one core (CPU time of this process):
MB/s and utterances/s redacting utterance by utterance, MB/s on whole call transcripts and on
one 1 MB document (medians of rounds in which engine and baseline take turns), p99 latency per
utterance, and the engine's utterance speed as a fraction of the baseline's. Targets (issue 5): recall >= 0.97 overall
and >= 0.95 per kind, precision >= 0.90, >= 10 MB/s.
"""

import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from phi.redaction import accel, find_spans
from phi.redaction.corpus import Example, generate, generate_calls
from phi.redaction.patterns import Kind
from phi.redaction.scoring import load_marked, score

HELDOUT = (
    Path(__file__).resolve().parent.parent / "tests" / "phi" / "data" / "redaction_heldout.txt"
)

BASELINE = [
    (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), "SSN"),
    (re.compile(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b"), "DATE"),
    (re.compile(r"\b\d{3}-\d{3}-\d{4}\b"), "PHONE"),
]

Redactor = Callable[[str], Sequence[tuple[int, int, str]]]


def baseline(text: str) -> list[tuple[int, int, str]]:
    """The three-regex baseline as a redactor."""
    return [(*m.span(), kind) for pattern, kind in BASELINE for m in pattern.finditer(text)]


def engine(text: str) -> Sequence[tuple[int, int, str]]:
    """The project's engine as a redactor: its spans as they are ((start, end, kind) tuples;
    a Kind is a str), as the baseline's are its matches' (start, end, kind) tuples."""
    return find_spans(text)


ROUNDS = 5


def _cpu(fn: Callable[[], object]) -> float:
    started = time.process_time()
    fn()
    return time.process_time() - started


def _speeds(
    redactors: dict[str, Redactor], utterances: list[str], calls: list[str], doc: str
) -> dict:
    """Speed of each redactor: median CPU time of ROUNDS rounds, the redactors taking turns
    within each round so that all of them see the same load on a shared machine."""
    utterance_bytes = sum(len(u.encode()) for u in utterances)
    call_bytes = sum(len(c.encode()) for c in calls)
    times: dict[str, dict[str, list[float]]] = {
        name: {"utterances": [], "calls": [], "doc": []} for name in redactors
    }
    for _ in range(ROUNDS):
        for name, redactor in redactors.items():
            times[name]["utterances"].append(_cpu(lambda r=redactor: [r(u) for u in utterances]))
            times[name]["calls"].append(_cpu(lambda r=redactor: [r(c) for c in calls]))
            times[name]["doc"].append(_cpu(lambda r=redactor: r(doc)))
    speeds = {}
    for name, redactor in redactors.items():
        per_utterance = statistics.median(times[name]["utterances"])
        latencies = []
        for u in utterances:
            started = time.perf_counter()
            redactor(u)
            latencies.append(time.perf_counter() - started)
        speeds[name] = {
            "utterance MB/s": utterance_bytes / per_utterance / 1e6,
            "utterances/s": len(utterances) / per_utterance,
            "call transcript MB/s": call_bytes / statistics.median(times[name]["calls"]) / 1e6,
            "1 MB document MB/s": len(doc.encode()) / statistics.median(times[name]["doc"]) / 1e6,
            "p99 latency/utterance (ms)": statistics.quantiles(latencies, n=100)[98] * 1000,
        }
    return speeds


def _utterances(calls: list[Example]) -> list[str]:
    return [line.split(": ", 1)[1] for c in calls for line in c.text.split("\n")]


def run() -> dict:
    """Quality per kind and speed, engine and baseline side by side."""
    corpus = generate()
    calls = generate_calls()
    utterances = [e.text for e in corpus] + _utterances(calls)
    call_texts = [c.text for c in calls]
    joined = "\n".join(utterances)
    doc = (joined * (1024 * 1024 // len(joined) + 1))[: 1024 * 1024]
    quality = {"engine": score(corpus, engine), "baseline": score(corpus, baseline)}
    on_calls = {"engine": score(calls, engine), "baseline": score(calls, baseline)}
    heldout = load_marked(HELDOUT)
    on_heldout = {"engine": score(heldout, engine), "baseline": score(heldout, baseline)}
    rows = []
    for kind in [k.value for k in Kind] + ["ALL"]:
        ours, base = quality["engine"].get(kind, {}), quality["baseline"].get(kind, {})
        call_row = on_calls["engine"].get(kind, {})
        for measure in ("recall", "precision"):
            rows.append(
                {
                    "metric": f"{kind} {measure} (gold {int(ours.get('gold', 0))})",
                    "engine": ours.get(measure, 0.0),
                    "engine on whole calls": call_row.get(measure, 0.0),
                    "baseline": base.get(measure, 0.0),
                }
            )
    for kind in [k.value for k in Kind] + ["ALL"]:
        ours, base = on_heldout["engine"].get(kind, {}), on_heldout["baseline"].get(kind, {})
        for measure in ("recall", "precision"):
            rows.append(
                {
                    "metric": f"held-out {kind} {measure} (gold {int(ours.get('gold', 0))})",
                    "engine": ours.get(measure, 0.0),
                    "baseline": base.get(measure, 0.0),
                }
            )
    speed = _speeds({"engine": engine, "baseline": baseline}, utterances, call_texts, doc)
    for metric in speed["engine"]:
        rows.append(
            {
                "metric": metric,
                "engine": speed["engine"][metric],
                "baseline": speed["baseline"][metric],
            }
        )
    # The machine is shared: absolute MB/s move with its load, the ratio much less.
    rows.append(
        {
            "metric": "utterance speed / baseline's",
            "engine": speed["engine"]["utterance MB/s"] / speed["baseline"]["utterance MB/s"],
            "baseline": 1.0,
        }
    )
    compiled = accel.compiled()
    native = accel.native()
    build = "pure Python"
    if compiled or native:
        build = " + ".join(
            name for name, on in (("mypyc", compiled), ("C word scanner", native)) if on
        )
    return {
        "title": f"PHI redaction: engine vs three-regex baseline (one core, {build})",
        "rows": rows,
        # True: phi.redaction's spoken/engine ran as mypyc builds, and read words with the C
        # scanner (make accel); PHI_REDACTION_PURE=1 measures the pure-Python engine.
        "compiled": compiled,
        "native": native,
        "quality": quality,
        "quality_calls": on_calls,
        "quality_heldout": on_heldout,
        "speed": speed,
        "corpus": {
            "utterances": len(corpus),
            "calls": len(calls),
            "heldout": len(heldout),
            "heldout_negatives": sum(1 for e in heldout if not e.spans),
            "utterances_for_speed": len(utterances),
        },
    }
