"""Property tests: any input, hostile or random, up to 1 MB, gives consistent spans and a
masked text, and finishes (the patterns are linear; a catastrophic one would hang here)."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phi.redaction import engine, mask_for, redact

MB = 1024 * 1024

ADVERSARIAL_UNITS = [
    "a",
    "a.",
    "1",
    "1-",
    "1 ",
    "@",
    "a@",
    ".@a",
    "five ",
    "oh ",
    "five, ",
    "dot ",
    "at ",
    "s as in ",
    "a b ",
    "John ",
    "Mr. ",
    "my name is ",
    "march ",
    "third ",
    "nineteen ",
    "hundred ",
    "Street ",
    "12/",
    "(555) ",
    "x" * 63 + "@",
    "-",
    " ",
]


def check(text: str) -> None:
    result = redact(text)
    previous_end = 0
    for span in result.spans:
        assert previous_end <= span.start < span.end <= len(text)
        previous_end = span.end
    unmasked = sum(s.end - s.start for s in result.spans)
    masks = sum(len(mask_for(s.kind)) for s in result.spans)
    assert len(result.text) == len(text) - unmasked + masks


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2000))
def test_random_text_gives_consistent_spans(text: str) -> None:
    check(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unit=st.lists(st.sampled_from(ADVERSARIAL_UNITS), min_size=1, max_size=4).map("".join),
    size=st.sampled_from([10_000, 100_000, MB]),
)
def test_hostile_repetitions_up_to_one_megabyte_finish(unit: str, size: int) -> None:
    check((unit * (size // len(unit) + 1))[:size])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet="0123456789 -,.()/@abcdefghijklmnoSMJ", min_size=1, max_size=64))
def test_random_unit_repeated_to_one_megabyte_finishes(unit: str) -> None:
    check((unit * (MB // len(unit) + 1))[:MB])


@settings(max_examples=500, deadline=None)
@given(
    st.text(alphabet="ab_'-09 ,.\t\n\u00a0\u2003\u3000xZé", max_size=80),
    st.integers(min_value=0, max_value=80),
    st.integers(min_value=0, max_value=80),
)
def test_backward_word_reading_matches_its_regex(text: str, lo: int, pos: int) -> None:
    lo, pos = min(lo, pos, len(text)), min(max(lo, pos), len(text))
    m = engine._WORD_BACK_RE.search(text, lo, pos)
    assert engine._word_back(text, lo, pos) == (m.start() if m is not None else -1)
