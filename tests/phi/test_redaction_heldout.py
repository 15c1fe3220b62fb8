"""The engine on the hand-written held-out set (tests/phi/data/redaction_heldout.txt).

The set was written independently of the corpus templates and is never used to tune lexicons,
so it measures how the rules generalise. Per-kind floors are a little lower than on the
project corpus because a kind has only 7-40 gold spans here (one miss moves recall ~3%).
"""

from pathlib import Path

import pytest

from phi.redaction import find_spans
from phi.redaction.patterns import Kind
from phi.redaction.scoring import engine_redactor, load_marked, parse_marked, score

HELDOUT = Path(__file__).resolve().parent / "data" / "redaction_heldout.txt"
OVERALL_RECALL_FLOOR = 0.97
KIND_RECALL_FLOOR = 0.90
PRECISION_FLOOR = 0.90


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, float]]:
    return score(load_marked(HELDOUT), engine_redactor)


def test_marked_lines_parse_into_text_and_gold_spans() -> None:
    example = parse_marked("call [[PHONE:555-0187]] or [[NAME:Ruth]]")
    assert example.text == "call 555-0187 or Ruth"
    assert example.spans == [(5, 13, "PHONE"), (17, 21, "NAME")]
    assert parse_marked("press 2").source == "negative"


def test_heldout_set_covers_every_kind_and_many_negatives() -> None:
    examples = load_marked(HELDOUT)
    kinds = {kind for e in examples for _, _, kind in e.spans}
    assert kinds == {k.value for k in Kind}
    assert sum(1 for e in examples if not e.spans) >= 100


def test_heldout_overall_recall_and_precision(results: dict[str, dict[str, float]]) -> None:
    assert results["ALL"]["recall"] >= OVERALL_RECALL_FLOOR, results["ALL"]
    assert results["ALL"]["precision"] >= PRECISION_FLOOR, results["ALL"]


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_heldout_each_kind_meets_its_floor(results: dict[str, dict[str, float]], kind: str) -> None:
    assert results[kind]["recall"] >= KIND_RECALL_FLOOR, (kind, results[kind])
    assert results[kind]["precision"] >= PRECISION_FLOOR, (kind, results[kind])


def test_no_heldout_negative_is_masked() -> None:
    masked = [e.text for e in load_marked(HELDOUT) if not e.spans and find_spans(e.text)]
    assert masked == []
