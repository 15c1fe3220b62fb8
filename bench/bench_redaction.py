"""Redaction engine vs the three-regex baseline (SSN, slash date, dashed phone), same run.

Quality: recall and precision per kind on the project's synthetic corpus (phi.redaction.corpus),
on whole synthetic call transcripts, and on the hand-written held-out set
(tests/phi/data/redaction_heldout.txt: written apart from the corpus templates, never used to
tune lexicons, so it shows how the rules generalise; the corpus figures are a ceiling). Speed, on one core (CPU time of this process):
MB/s and utterances/s redacting utterance by utterance, MB/s on whole call transcripts and on
one 1 MB document, and p99 latency per utterance. Targets (issue 5): recall >= 0.97 overall
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


def engine(text: str) -> list[tuple[int, int, str]]:
    """The project's engine as a redactor."""
    return [(s.start, s.end, s.kind.value) for s in find_spans(text)]


def _cpu(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best = min(best, time.process_time() - started)
    return best


def _speed(redactor: Redactor, utterances: list[str], calls: list[str], doc: str) -> dict:
    utterance_bytes = sum(len(u.encode()) for u in utterances)
    call_bytes = sum(len(c.encode()) for c in calls)
    per_utterance = _cpu(lambda: [redactor(u) for u in utterances])
    per_call = _cpu(lambda: [redactor(c) for c in calls])
    per_doc = _cpu(lambda: redactor(doc), repeat=2)
    latencies = []
    for u in utterances:
        started = time.perf_counter()
        redactor(u)
        latencies.append(time.perf_counter() - started)
    return {
        "utterance MB/s": utterance_bytes / per_utterance / 1e6,
        "utterances/s": len(utterances) / per_utterance,
        "call transcript MB/s": call_bytes / per_call / 1e6,
        "1 MB document MB/s": len(doc.encode()) / per_doc / 1e6,
        "p99 latency/utterance (ms)": statistics.quantiles(latencies, n=100)[98] * 1000,
    }


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
    speed = {"engine": _speed(engine, utterances, call_texts, doc)}
    speed["baseline"] = _speed(baseline, utterances, call_texts, doc)
    for metric in speed["engine"]:
        rows.append(
            {
                "metric": metric,
                "engine": speed["engine"][metric],
                "baseline": speed["baseline"][metric],
            }
        )
    compiled = accel.compiled()
    return {
        "title": "PHI redaction: engine vs three-regex baseline (one core, "
        + ("compiled modules, mypyc)" if compiled else "pure Python)"),
        "rows": rows,
        # True: phi.redaction's spoken/engine ran as mypyc builds (make accel); PHI_REDACTION_PURE=1
        # measures the pure-Python engine.
        "compiled": compiled,
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
