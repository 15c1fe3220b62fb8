"""Score a redactor against gold spans: recall and precision per kind and overall.

A gold span is *found* when predicted spans of the same kind cover at least `COVERAGE` of
its non-space characters (a half-masked phone number is a leak, not a hit); it is *masked*
when spans of any kind cover it that well. A predicted span is *correct* when it overlaps a
gold span of its kind; predictions in negative sentences are all false positives.

Invariant: the scorer reports counts and ratios only, never the text it scored.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from .corpus import Example
from .patterns import Kind

COVERAGE = 0.8

Redactor = Callable[[str], Sequence[tuple[int, int, str]]]


def _covered(text: str, start: int, end: int, spans: Iterable[tuple[int, int, str]]) -> float:
    wanted = [i for i in range(start, end) if not text[i].isspace()]
    if not wanted:
        return 1.0
    hit = sum(1 for i in wanted if any(s <= i < e for s, e, _ in spans))
    return hit / len(wanted)


def score(examples: Iterable[Example], redactor: Redactor) -> dict[str, dict[str, float]]:
    """{kind | "ALL": {"gold", "found", "masked", "predicted", "correct", "recall", "precision"}}."""
    counts: dict[str, dict[str, float]] = defaultdict(
        lambda: {"gold": 0, "found": 0, "masked": 0, "predicted": 0, "correct": 0}
    )
    for example in examples:
        predicted = [(s, e, str(k)) for s, e, k in redactor(example.text)]
        for start, end, kind in example.spans:
            same = [p for p in predicted if p[2] == kind and p[0] < end and p[1] > start]
            for bucket in (kind, "ALL"):
                counts[bucket]["gold"] += 1
                counts[bucket]["found"] += _covered(example.text, start, end, same) >= COVERAGE
                counts[bucket]["masked"] += (
                    _covered(example.text, start, end, predicted) >= COVERAGE
                )
        for start, end, kind in predicted:
            correct = any(g[2] == kind and g[0] < end and g[1] > start for g in example.spans)
            any_gold = any(g[0] < end and g[1] > start for g in example.spans)
            counts[kind]["predicted"] += 1
            counts[kind]["correct"] += correct
            counts["ALL"]["predicted"] += 1
            counts["ALL"]["correct"] += any_gold
    for row in counts.values():
        row["recall"] = row["found"] / row["gold"] if row["gold"] else 1.0
        row["masked_recall"] = row["masked"] / row["gold"] if row["gold"] else 1.0
        row["precision"] = row["correct"] / row["predicted"] if row["predicted"] else 1.0
    order = [k.value for k in Kind] + ["ALL"]
    return {k: dict(counts[k]) for k in order if k in counts}


_MARK_RE = re.compile(r"\[\[(NAME|DATE|PHONE|SSN|MRN|EMAIL|ADDRESS|AGE):(.+?)\]\]")


def parse_marked(line: str, source: str = "heldout") -> Example:
    """An example from a line with its PHI marked "[[KIND:text]]" (the marks are removed)."""
    text = ""
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for m in _MARK_RE.finditer(line):
        text += line[pos : m.start()]
        spans.append((len(text), len(text) + len(m.group(2)), m.group(1)))
        text += m.group(2)
        pos = m.end()
    text += line[pos:]
    return Example(text, spans, source if spans else "negative")


def load_marked(path: Path) -> list[Example]:
    """Every non-blank, non-comment line of a marked file as an example."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [parse_marked(ln) for ln in lines if ln.strip() and not ln.startswith("#")]


def engine_redactor(text: str) -> list[tuple[int, int, str]]:
    """The project's engine as a Redactor."""
    from .engine import find_spans

    return [(s.start, s.end, s.kind.value) for s in find_spans(text)]
