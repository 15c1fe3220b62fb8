"""The engine's gates are shortcuts only: running the name and e-mail detectors on a window the
gates closed finds nothing more, and the regex-free readers find what their regexes find."""

from hypothesis import given, settings
from hypothesis import strategies as st

from phi.redaction import engine, spoken
from phi.redaction.patterns import (
    NAME_CUE_FINDER_RE,
    NAME_CUE_OFFSETS,
    NUMBER_TOKEN_RE,
    SPELLED_RE,
)

# Words and separators that meet every gate and its edge cases: cue phrases in any case,
# lexicon and odd capitalised names, apostrophes, digits glued to letters, spoken e-mails.
WORDS = [
    "this",
    "is",
    "This",
    "THIS",
    "my",
    "name",
    "Name",
    "i'm",
    "I'm",
    "hi",
    "Hi,",
    "thanks",
    "okay",
    "daughter",
    "DAUGHTER",
    "son,",
    "pt:",
    "Mr.",
    "mrs",
    "next",
    "of",
    "kin",
    "patient",
    "Maria",
    "maria",
    "Smith",
    "smith",
    "O'Brien",
    "McDonald",
    "ISsee",
    "Xavi",
    "Will",
    "will",
    "May",
    "'this",
    "five's",
    "'five",
    "5five",
    "five5",
    "a1234567",
    "12ab",
    "3rd",
    "five",
    "one",
    "oh",
    "OH",
    "nineteen",
    "eighty",
    "march",
    "at",
    "dot",
    "period",
    "com",
    "gmail",
    "j",
    "o",
    "h",
    "n",
    "a",
    "i",
    "b",
    "as",
    "in",
    "Sam",
    "s",
    "st",
    "st's",
    "Main",
    "street",
    "555",
    "0123",
    "@",
    "x@y.com",
    "the",
    "and",
    "you",
    "_",
    "_five",
    "é",
    "İ",
]
# Whole phrases too, so that random texts hold complete cues, spellings and addresses.
WORDS += [
    "at gmail dot com",
    "maria at example period org",
    "at example.net",
    "j o h n",
    "s as in Sam",
    "my name is",
    "this is Maria",
    "spoke with",
    "five five five oh one two",
    "nineteen eighty",
    "12 Main St",
    "is ninety",
]
SEPARATORS = [" ", " ", " ", ", ", ": ", ". ", "\n", "", "  ", "-", "'"]

texts = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), min_size=1, max_size=30
).map(lambda parts: "".join(word + sep for word, sep in parts))


def _windows(text: str) -> list[tuple[int, int]]:
    if len(text) <= engine._WINDOW_MIN or "\n" not in text:
        return [(0, len(text))]
    windows, pos = [], 0
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        if end > pos:
            windows.append((pos, end))
        pos = end + 1
    return windows


@settings(max_examples=600, deadline=None)
@given(texts)
def test_name_and_email_gates_never_hide_a_detection(text: str) -> None:
    lower = text.lower()
    gated: list = []
    for pos, end in _windows(text):
        engine._find_in_window(text, lower, pos, end, gated, [])
    ungated = list(gated)
    for pos, end in _windows(text):
        engine._find_names(text, lower, ungated, pos, end, list(NAME_CUE_OFFSETS))
        engine._find_emails(text, lower, ungated, pos, end)
    assert engine.merge_spans(gated, text) == engine.merge_spans(ungated, text)


@settings(max_examples=600, deadline=None)
@given(texts)
def test_number_tokens_are_the_regex_tokens(text: str) -> None:
    lower = text.lower()
    expected = [(m.start(), m.end(), m.group()) for m in NUMBER_TOKEN_RE.finditer(lower)]
    assert spoken.number_tokens(lower, 0, len(lower)) == expected


@settings(max_examples=600, deadline=None)
@given(texts)
def test_cue_phrases_are_the_regex_matches(text: str) -> None:
    lower = text.lower()
    expected = [m.span() for m in NAME_CUE_FINDER_RE.finditer(lower)]
    found = engine._cue_phrases(lower, 0, len(lower), list(NAME_CUE_OFFSETS))
    assert [m.span() for m in found] == expected


@settings(max_examples=600, deadline=None)
@given(texts)
def test_spellings_are_the_regex_matches(text: str) -> None:
    lower = text.lower()
    expected = [m.span() for m in SPELLED_RE.finditer(lower)]
    marked = ""
    if lower.isascii():
        marked = lower.encode("ascii").translate(engine._WORD_BYTES).decode("ascii")
    letters = sorted(set(lower) & set("abcdefghijklmnopqrstuvwxyz"))
    found = engine._spellings(lower, 0, len(lower), marked, letters)
    assert [m.span() for m in found] == expected


def _weak_name_by_regex(lower: str, pos: int) -> list:
    """_weak_name_after as the regex alone reads it (the function checks the lexicon first)."""
    m = engine._WEAK_FOLLOW_RE.match(lower, pos)
    if m is None:
        return []
    first = m.group("first")
    if (
        first not in engine._FIRST_NAMES
        or first in engine.NAME_CUE_STOPWORDS
        or first in engine.AMBIGUOUS_FIRST_NAMES
    ):
        return []
    last = m.group("last")
    end = m.end("last") if last is not None and last in engine._LAST_NAMES else m.end("first")
    return [(m.start("first"), end, engine.KIND_NAME)]


def _assert_weak_name_is_the_regex_reading(text: str, pos: int) -> None:
    lower = text.lower()
    out: list = []
    engine._weak_name_after(lower, pos, engine._FIRST_NAMES, engine._LAST_NAMES, out)
    assert out == _weak_name_by_regex(lower, pos)


@settings(max_examples=600, deadline=None)
@given(texts, st.integers(0, 40))
def test_weak_names_are_the_regex_reading(text: str, pos: int) -> None:
    _assert_weak_name_is_the_regex_reading(text, pos)


def test_weak_names_at_the_edges_of_the_first_word() -> None:
    # a name that starts with "z", one glued to a hyphen or apostrophe, one letter, the end
    for text in ("zoe smith", "maria-x", "maria'", "maria smith", "m", "", "Zoe", "maria5"):
        for pos in range(len(text) + 1):
            _assert_weak_name_is_the_regex_reading(text, pos)
