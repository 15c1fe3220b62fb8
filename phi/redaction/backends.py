"""Optional NER backends that add spans to the rule engine's (the default needs no model).

`PresidioBackend` wraps Microsoft Presidio's AnalyzerEngine when it is installed (it is not a
dependency: `pip install presidio-analyzer` plus a spaCy model). Install one at startup with
`phi.redaction.backend_install(PresidioBackend())`; `redact()` then merges its spans with the
rules' (overlaps merge, the more specific kind wins). `CallableBackend` adapts any function
returning (start, end, label) triples, which is also how tests plug in a fake model.

Invariant: a backend only adds spans; it can never remove what the rules found.
"""

from collections.abc import Callable, Iterable
from typing import Any

from .engine import Span
from .patterns import Kind

# Presidio entity types -> our kinds; entities not listed are ignored.
PRESIDIO_KINDS = {
    "PERSON": Kind.NAME,
    "DATE_TIME": Kind.DATE,
    "PHONE_NUMBER": Kind.PHONE,
    "US_SSN": Kind.SSN,
    "EMAIL_ADDRESS": Kind.EMAIL,
    "LOCATION": Kind.ADDRESS,
    "MEDICAL_LICENSE": Kind.MRN,
    "US_DRIVER_LICENSE": Kind.MRN,
}


class CallableBackend:
    """A backend from a function text -> [(start, end, label)], labels mapped to kinds."""

    def __init__(
        self,
        find: Callable[[str], Iterable[tuple[int, int, str]]],
        *,
        kinds: dict[str, Kind] | None = None,
    ) -> None:
        self._find = find
        self._kinds = kinds or {k.value: k for k in Kind}

    def find(self, text: str) -> list[Span]:
        """Spans of the labels this backend knows."""
        return [
            Span(start, end, self._kinds[label])
            for start, end, label in self._find(text)
            if label in self._kinds and 0 <= start < end <= len(text)
        ]


class PresidioBackend(CallableBackend):
    """Presidio's analyzer as a backend (needs presidio-analyzer and a spaCy model)."""

    def __init__(self, *, score_threshold: float = 0.6, analyzer: Any = None) -> None:
        if analyzer is None:
            try:
                from presidio_analyzer import AnalyzerEngine  # optional dependency
            except ImportError as exc:
                raise ImportError(
                    "PresidioBackend needs presidio-analyzer: pip install presidio-analyzer "
                    "and a spaCy English model (python -m spacy download en_core_web_lg)"
                ) from exc
            analyzer = AnalyzerEngine()
        self._analyzer = analyzer
        self._threshold = score_threshold
        super().__init__(self._analyze, kinds=PRESIDIO_KINDS)

    def _analyze(self, text: str) -> list[tuple[int, int, str]]:
        results = self._analyzer.analyze(text=text, language="en", entities=list(PRESIDIO_KINDS))
        return [(r.start, r.end, r.entity_type) for r in results if r.score >= self._threshold]
