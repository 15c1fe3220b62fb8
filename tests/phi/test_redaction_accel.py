"""The optional compiled redaction modules (mypyc, and the C word scanner): never required,
never stale, and the same spans as the pure-Python engine on the corpus and generated text."""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from phi.redaction import accel, find_spans
from phi.redaction.corpus import generate, generate_calls
from phi.redaction.scoring import load_marked

from .test_redaction_gates import SEPARATORS, WORDS

ROOT = Path(__file__).resolve().parents[2]
HELDOUT = ROOT / "tests" / "phi" / "data" / "redaction_heldout.txt"

_SPANS_SCRIPT = """
import json, sys
from phi.redaction import accel, find_spans
texts = json.load(sys.stdin)
print(json.dumps({"compiled": accel.compiled(),
                  "spans": [[list(s) for s in find_spans(t)] for t in texts]}))
"""


def _generated(count: int) -> list[str]:
    """Texts made of the gate test's words and separators, some with odd characters, and
    transcripts long enough to be read line by line (one with curly apostrophes, which makes
    the whole string two bytes a character). Seeded: the same texts every run."""
    rng = random.Random(5)
    odd = "\u00e9\u2019\u2013\x00\u212a\u0130\ud800"
    texts = []
    for _ in range(count):
        parts = [rng.choice(WORDS) + rng.choice(SEPARATORS) for _ in range(rng.randint(1, 24))]
        if rng.random() < 0.2:
            parts.insert(rng.randrange(len(parts) + 1), rng.choice(odd))
        texts.append("".join(parts))
    calls = [c.text for c in generate_calls()[:40]]
    texts.append("\n".join(calls))
    texts.append("\n".join(calls).replace("'", "\u2019"))
    return texts


def _texts() -> list[str]:
    calls = generate_calls()
    return (
        [e.text for e in generate()]
        + [c.text for c in calls]
        + [e.text for e in load_marked(HELDOUT)]
        + ["five five five, oh one two " * 40, "Mr. " * 500, "12/" * 300, "a@" * 400]
        + _generated(3000)
    )


def _pure_spans(texts: list[str]) -> dict:
    env = {**os.environ, "PHI_REDACTION_PURE": "1"}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _SPANS_SCRIPT],
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    return json.loads(done.stdout)


def test_pure_python_is_forced_by_the_environment_variable() -> None:
    assert _pure_spans(["call me at 555 0123"])["compiled"] is False


def test_compiled_and_pure_engines_find_the_same_spans() -> None:
    if not accel.compiled():
        pytest.skip("compiled modules not built (make accel)")
    texts = _texts()
    ours = [[list(s) for s in find_spans(t)] for t in texts]
    assert _pure_spans(texts)["spans"] == ours


def test_a_stamp_for_other_sources_is_stale(tmp_path: Path, monkeypatch) -> None:
    stamp = tmp_path / "_accel.stamp"
    monkeypatch.setattr(accel, "STAMP", stamp)
    assert not accel._stamp_fresh()
    stamp.write_text("0" * 64)
    assert not accel._stamp_fresh()
    stamp.write_text(accel.source_digest() + "\n")
    assert accel._stamp_fresh()
