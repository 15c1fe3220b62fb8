"""The C word scanner (phi/redaction/_scan.c) against the Python it stands in for.

Each of its readers is compared with the Python reference on the corpus, on generated text and
on hostile input (very long words and windows, apostrophe chains, NUL, non-ASCII, lone
surrogates, offsets out of range). The engine-level comparison (compiled vs pure spans) is in
test_redaction_accel.py. Skipped when the scanner is not built (`make accel`).
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phi.redaction import accel, engine, spoken
from phi.redaction.corpus import generate, generate_calls
from phi.redaction.patterns import CAP_WORD_RE, NUMBER_TOKEN_RE, NUMBER_TOKEN_WORDS

from .test_redaction_gates import texts as word_texts

scan = accel.native_scanner()
pytestmark = pytest.mark.skipif(scan is None, reason="C word scanner not built (make accel)")

GATE_TABLE = scan.table(engine._GATE_BITS) if scan is not None else None
TOKEN_TABLE = scan.table(dict.fromkeys(NUMBER_TOKEN_WORDS, 1)) if scan is not None else None

# Characters that stress the readers' edges: word characters, apostrophes, digits, "_", pause
# characters, a NUL, Latin-1 and wider characters, a lone surrogate.
EDGE_ALPHABET = "ab fiveon'_09 ,.-/()+\t\n:;@\x00\u00e9\u00c9\u0130\u212a\u2013\ud800ZMcD"
edge_texts = st.text(alphabet=EDGE_ALPHABET, max_size=120)
# Short pieces that meet the readers' rules one at a time: pause words between numbers, a
# number word as a piece or a tail, single letters.
PIECES = ["five", "'five", "five'", "o'five", "five's", "um", "uh", "and", "of", "the", "umm"]
PIECES += ["i'm", "name's", "b", "'b'", "a", "x'", "ninety", "street", "'", "5", "12", "-"]
piece_texts = st.lists(
    st.tuples(st.sampled_from(PIECES), st.sampled_from([" ", ", ", "", "'", " - ", "  "])),
    min_size=1,
    max_size=8,
).map(lambda parts: "".join(piece + sep for piece, sep in parts))
# Words that mix digits and letters: ordinals, ids, and shapes left to the regex.
mixed_texts = st.text(alphabet="asthnrdoe0129 _'", max_size=40)
any_texts = st.one_of(word_texts, edge_texts, piece_texts, mixed_texts, st.text(max_size=200))
# Each rule alone.
EXAMPLES = [
    "'five",
    "five'",
    "o'five",
    "five um six",
    "five uh six",
    "five and six",
    "five of six",
    "five the six",
    "five umm six",
    "five, um, six",
    "'b' c",
    "b'c d",
    "five'five",
    "this'i'm",
    "i'm five",
    "''",
    "five--six",
    "five\tsix",
    "5 - 12",
    "+1 (555) 0123",
    "five + six",
    "five/six.seven",
    "MRN XJH980017569",
    "a1234567 b2",
    "the 21st, 2nd 3rd 4th 1th",
    "one1 o5 ninety9",
]


def _windows(text: str) -> list[tuple[int, int]]:
    """The whole text, and each line as the engine gates it."""
    windows = [(0, len(text))]
    pos = 0
    while pos <= len(text):
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        windows.append((pos, end))
        pos = end + 1
    return windows


def _gate_view(view: engine.GateView) -> tuple:
    bits, has_digit, number_words, spelling, changed, hits, _, _ = view
    return bits, has_digit, number_words, spelling, changed, sorted(hits)


def _assert_gate_agrees(text: str, pos: int, end: int) -> None:
    lower = text.lower()
    if len(lower) != len(text):
        return  # the engine never asks the scanner then (offsets of text and lower differ)
    scanned = scan.gate(GATE_TABLE, text, lower, pos, end, engine._NUMBER, engine._LETTER)
    if scanned is None:
        assert not lower[pos:end].isascii()
        return
    assert lower[pos:end].isascii()
    ours = _gate_view(engine._gate_from_scan(scanned))
    assert ours == _gate_view(engine._gate_python(text, lower, pos, end))


def _regex_tokens(lower: str, pos: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in NUMBER_TOKEN_RE.finditer(lower, pos, end)]


def _assert_tokens_agree(lower: str, pos: int, end: int) -> None:
    tokens = scan.number_tokens(TOKEN_TABLE, lower, pos, end)
    if tokens is not None:
        assert tokens == _regex_tokens(lower, pos, end)
    runs = scan.number_runs(TOKEN_TABLE, lower, pos, end, spoken._MAX_GAP, spoken._MAX_RUN_TOKENS)
    assert (runs is None) == (tokens is None)
    if runs is not None:
        assert [t[:3] for run in runs for t in run] == tokens
        assert runs == spoken.token_groups(lower, None, pos, end)


def _assert_cap_words_agree(text: str, pos: int, end: int) -> None:
    lower = text.lower()
    if len(lower) != len(text):
        return  # the engine never asks the scanner then
    found = scan.cap_words(text, lower, pos, end)
    if found is None:
        assert not text[pos:end].isascii() or not text.isascii()
        return
    expected = [
        (m.start(), m.end(), m.group().lower()) for m in CAP_WORD_RE.finditer(text, pos, end)
    ]
    assert found == expected


def _assert_letters_alone_agree(lower: str, pos: int, end: int) -> None:
    found = scan.letters_alone(lower, pos, end)
    window = lower[pos:end]
    if found is None:  # not ASCII, or a string wider than a byte a character
        assert not window.isascii() or max(lower) > "\xff"
        return
    # the reference: a letter between two blanks of the gate's byte table view
    padded = " " + window.encode("ascii").translate(engine._WORD_BYTES).decode("ascii") + " "
    expected = [
        pos + i
        for i in range(len(window))
        if padded[i + 1].isalpha() and padded[i] == " " and padded[i + 2] == " "
    ]
    assert found == expected


def _assert_cue_words_agree(lower: str, pos: int, end: int) -> None:
    assert scan.cue_words(lower, pos, end) == engine._CUE_SPLIT_RE.findall(lower[pos:end])


def _corpus_texts() -> list[str]:
    return [e.text for e in generate()] + [c.text for c in generate_calls()]


@pytest.mark.parametrize("text", EXAMPLES)
def test_each_rule_agrees_with_python(text: str) -> None:
    _assert_gate_agrees(text, 0, len(text))
    _assert_tokens_agree(text, 0, len(text))
    _assert_cap_words_agree(text, 0, len(text))
    _assert_letters_alone_agree(text.lower(), 0, len(text))
    _assert_cue_words_agree(text.lower(), 0, len(text))


# Each branch of CAP_WORD_RE, and the characters around a match.
CAP_EXAMPLES = [
    "McDonald",
    "O'Brien",
    "Mary-Ann",
    "Jean-paul",
    "XYz",
    "Abc2",
    "Mary-AB",
    "ABc",
    "I'm",
    "I",
    "\u00c9a",
    "aB",
    "_Ab",
    "Ab_",
    "Ab'",
    "Ab-",
    "D'",
    "O'B",
    "McD",
    "Mary-",
    "Mary-Ann-Lee",
    "x Ab",
    "\u00e9Ab",
    "Ab\u00e9",
    "Ab Cd, Ef:Gh",
]


@pytest.mark.parametrize("text", CAP_EXAMPLES)
def test_capitalised_words_are_the_regex_matches(text: str) -> None:
    for pos in range(len(text) + 1):
        for end in range(pos, len(text) + 1):
            _assert_cap_words_agree(text, pos, end)


def test_gate_agrees_with_python_on_the_corpus() -> None:
    for text in _corpus_texts():
        for pos, end in _windows(text):
            _assert_gate_agrees(text, pos, end)
            _assert_cap_words_agree(text, pos, end)


def test_number_readers_agree_with_python_on_the_corpus() -> None:
    for text in _corpus_texts():
        lower = text.lower()
        for pos, end in _windows(lower):
            _assert_tokens_agree(lower, pos, end)


@settings(max_examples=800, deadline=None)
@given(any_texts, st.integers(0, 130), st.integers(0, 130))
def test_gate_agrees_with_python_on_generated_text(text: str, pos: int, size: int) -> None:
    pos = min(pos, len(text))
    for lo, hi in [*_windows(text), (pos, min(pos + size, len(text)))]:
        _assert_gate_agrees(text, lo, hi)
        _assert_cap_words_agree(text, lo, hi)


@settings(max_examples=800, deadline=None)
@given(any_texts)
def test_number_readers_agree_with_python_on_generated_text(text: str) -> None:
    lower = text.lower()
    for pos, end in _windows(lower):
        _assert_tokens_agree(lower, pos, end)
        _assert_letters_alone_agree(lower, pos, end)
        _assert_cue_words_agree(lower, pos, end)


def test_counts_say_one_word_how_often_or_two_words() -> None:
    table = scan.table({"five": 1, "six": 1, "b": 2})
    for text, counts in [
        ("b", (0, 1)),
        ("five", (1, 0)),
        ("five five b b", (2, 2)),
        ("'five five'", (2, 0)),  # two pieces; the tail "five'" is not a piece
        ("five six", (2, 0)),  # two words with the bit
        ("x'five", (1, 0)),  # found as a piece and as a tail: one piece
        ("xfive", (0, 0)),
    ]:
        assert scan.gate(table, text, text, 0, len(text), 1, 2)[6:] == counts, text


def test_offsets_out_of_range_are_clamped_like_a_slice() -> None:
    text = "five five five oh one two"
    lower = text.lower()
    whole = scan.gate(GATE_TABLE, text, lower, 0, len(text), 1, 2)
    assert scan.gate(GATE_TABLE, text, lower, -10, 10**9, 1, 2) == whole
    assert scan.gate(GATE_TABLE, text, lower, 20, 3, 1, 2) == (0, 0, False, False, False, (), 0, 0)
    tokens = scan.number_tokens(TOKEN_TABLE, lower, -5, 10**9)
    assert tokens == _regex_tokens(lower, 0, len(lower))
    assert scan.number_tokens(TOKEN_TABLE, lower, 30, 2) == []
    assert scan.number_runs(TOKEN_TABLE, lower, 30, 2, 24, 48) == []


def test_non_ascii_windows_are_left_to_python() -> None:
    for text in ("caf\u00e9 five", "five \u2013 six", "\ud800 five", "five\x00\u00ff"):
        lower = text.lower()
        assert scan.gate(GATE_TABLE, text, lower, 0, len(text), 1, 2) is None
        assert scan.number_tokens(TOKEN_TABLE, lower, 0, len(lower)) is None
        assert scan.number_runs(TOKEN_TABLE, lower, 0, len(lower), 24, 48) is None
    # an ASCII window of a wider string is read, NUL and all
    text = "five six\x00\n\u2013"
    assert scan.number_tokens(TOKEN_TABLE, text, 0, 9) == [(0, 4, "five"), (5, 8, "six")]
    assert scan.gate(GATE_TABLE, text, text, 0, 9, 1, 2)[5] == ("five", "six")
    # lower-casing that changes a character (the Kelvin sign) is seen as a change
    text = "\u212a five"
    view = scan.gate(GATE_TABLE, text, text.lower(), 0, len(text), 1, 2)
    assert view is not None
    assert view[4] is True


def test_mixed_words_are_left_to_the_regex() -> None:
    for text in ("a9c", "99b", "five_six", "80's", "5x5", "1st2", "5rh", "7sd", "9nt", "5t"):
        assert scan.number_tokens(TOKEN_TABLE, text, 0, len(text)) is None
        assert scan.number_runs(TOKEN_TABLE, text, 0, len(text), 24, 48) is None


@pytest.mark.parametrize(
    "unit",
    ["'", "five'", "a'", "x" * 40 + " ", "five ", "5 ", "\x00", "o'o'", "of ", ", ", "ab"],
)
def test_one_megabyte_of_a_repeated_unit_reads_like_python(unit: str) -> None:
    text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    lower = text.lower()
    # One window of a megabyte: the C readers against the regex (the Python gate's tails are
    # quadratic on one huge apostrophe word, so the gate is compared on a slice).
    _assert_tokens_agree(lower, 0, len(lower))
    _assert_gate_agrees(text, 0, 2_000)
    assert scan.gate(GATE_TABLE, text, lower, 0, len(text), 1, 2) is not None
    _assert_cap_words_agree(text.title(), 0, len(text))
    _assert_cue_words_agree(lower, 0, len(lower))


def test_the_table_holds_only_ascii_str_keys() -> None:
    table = scan.table({"five": 1, "caf\u00e9": 2, "": 4, "a": 8})
    found = scan.gate(table, "five caf\u00e9 a", "five caf\u00e9 a", 0, 4, 1, 8)
    assert found == (1, 1, False, False, False, ("five",), 1, 0)
    with pytest.raises(TypeError):
        scan.table(["five"])
    with pytest.raises(TypeError):
        scan.table({"five": "one"})


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="one length"):
        scan.gate(GATE_TABLE, "Five", "five ", 0, 4, 1, 2)
    with pytest.raises(TypeError):
        scan.gate(GATE_TABLE, "five", b"five", 0, 4, 1, 2)
    with pytest.raises(TypeError):
        scan.gate(GATE_TABLE, "five", "five", 0, 4)
    with pytest.raises(ValueError, match="PyCapsule"):  # not a table
        scan.number_tokens(object(), "five", 0, 4)
    with pytest.raises(TypeError):
        scan.number_runs(TOKEN_TABLE, "five", 0, 4)
    with pytest.raises(OverflowError):
        scan.number_tokens(TOKEN_TABLE, "five", 0, 10**30)


def test_tuples_become_instances_of_a_tuple_subclass() -> None:
    hits = [(0, 4, engine.KIND_NAME), (9, 21, engine.KIND_PHONE)]
    spans = scan.as_instances(engine.Span, hits)
    assert spans == [engine.Span(*hit) for hit in hits]
    assert all(type(s) is engine.Span for s in spans)
    assert spans[1].kind is engine.KIND_PHONE
    assert scan.as_instances(engine.Span, []) == []
    with pytest.raises(TypeError):
        scan.as_instances(dict, hits)
    with pytest.raises(TypeError):
        scan.as_instances(engine.Span, [[0, 4, engine.KIND_NAME]])
