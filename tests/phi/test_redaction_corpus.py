"""The engine against the synthetic corpus: recall and precision floors per kind."""

import re

import pytest

from phi.redaction.corpus import generate, generate_calls
from phi.redaction.patterns import Kind
from phi.redaction.scoring import engine_redactor, score

RECALL_FLOOR = 0.95
OVERALL_RECALL_FLOOR = 0.97
PRECISION_FLOOR = 0.90


@pytest.fixture(scope="module")
def results() -> dict[str, dict[str, float]]:
    return score(generate(), engine_redactor)


@pytest.mark.parametrize("kind", [k.value for k in Kind])
def test_each_kind_meets_recall_and_precision_floors(
    results: dict[str, dict[str, float]], kind: str
) -> None:
    row = results[kind]
    assert row["gold"] >= 50, "the corpus must exercise every kind"
    assert row["recall"] >= RECALL_FLOOR, (kind, row)
    assert row["precision"] >= PRECISION_FLOOR, (kind, row)


def test_overall_recall_and_precision(results: dict[str, dict[str, float]]) -> None:
    assert results["ALL"]["recall"] >= OVERALL_RECALL_FLOOR
    assert results["ALL"]["precision"] >= PRECISION_FLOOR


def test_corpus_is_deterministic_and_has_negatives() -> None:
    first, second = generate(seed=7), generate(seed=7)
    assert [(e.text, e.spans) for e in first] == [(e.text, e.spans) for e in second]
    negatives = [e for e in first if e.source == "negative"]
    assert len(negatives) >= 200
    assert all(not e.spans for e in negatives)


def test_corpus_values_are_clearly_fake() -> None:
    for example in generate():
        for start, end, kind in example.spans:
            value = example.text[start:end]
            if kind == "PHONE" and re.fullmatch(r"[\d\s().+\-]+", value):
                assert "5550" in re.sub(r"\D", "", value)  # 555-01xx: reserved for fiction
            if kind == "SSN" and re.fullmatch(r"[\d\-]+", value):
                assert value.startswith("9")  # area 9xx is never issued
            if kind == "EMAIL" and "@" in value:
                assert value.split("@")[1].endswith(("example.com", "example.org", "example.net"))


def test_gold_spans_index_their_text() -> None:
    for example in generate(n_calls=50, n_notes=20):
        for start, end, _ in example.spans:
            assert 0 <= start < end <= len(example.text)
            assert example.text[start:end].strip() == example.text[start:end]


def test_whole_call_transcripts_meet_the_floors() -> None:
    results = score(generate_calls(n_calls=80), engine_redactor)
    assert results["ALL"]["recall"] >= OVERALL_RECALL_FLOOR
    for kind, row in results.items():
        assert row["precision"] >= PRECISION_FLOOR, kind
