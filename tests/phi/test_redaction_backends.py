"""Optional NER backends add spans to the rules' and never need a model by default."""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from phi.redaction import backend_install, redact
from phi.redaction.backends import CallableBackend, PresidioBackend


@pytest.fixture
def uninstall() -> Iterator[None]:
    yield
    backend_install(None)


def test_default_engine_needs_no_backend() -> None:
    assert redact("call 312-555-0147").text == "call [PHONE]"


def test_backend_spans_are_merged_with_the_rules(uninstall: None) -> None:
    text = "Zephyrine called from 312-555-0147"
    backend_install(CallableBackend(lambda t: [(0, 9, "NAME"), (50, 60, "NAME")]))
    assert redact(text).text == "[NAME] called from [PHONE]"


def test_presidio_results_map_to_our_kinds(uninstall: None) -> None:
    class FakeAnalyzer:
        def analyze(self, *, text: str, language: str, entities: list[str]) -> list:
            return [
                SimpleNamespace(start=0, end=9, entity_type="PERSON", score=0.85),
                SimpleNamespace(start=10, end=16, entity_type="PERSON", score=0.3),
            ]

    backend_install(PresidioBackend(analyzer=FakeAnalyzer()))
    assert redact("Zephyrine called").text == "[NAME] called"
