"""Spoken and written numbers as speech recognition writes them, read into digit strings.

"five five five, oh one two" -> "555012"; "five fifty-five" -> "555"; "nineteen eighty" ->
"1980"; "two thousand and five" -> "2005"; "double oh seven" -> "007"; "March third" -> a
month chunk and an ordinal chunk. A *run* is a sequence of number tokens separated only by
pauses (spaces, commas, dashes, "of", "uh"); the engine classifies whole runs with the cue
words before them. The tokens are the window's words, read and grouped into runs by the C
scanner when it is built (`_scan.c`; `token_groups` below is its reference), else split in
Python (NUMBER_TOKEN_RE reads only words that mix digits and letters, or any non-ASCII
window); the rest is a linear walk.

Invariant: work is linear in the input; every chunk keeps the character offsets of the
tokens it came from, so whatever the engine masks is exactly what was said.
"""

import re
from typing import Any, Final

from . import accel
from . import patterns as _patterns

# patterns' constants bound here as Final: the compiled module then keeps them in C statics
# instead of looking each up in the module's dict on every use.
MONTHS: Final = _patterns.MONTHS
MULTIPLIERS: Final = _patterns.MULTIPLIERS
NUMBER_GAP_RE: Final = _patterns.NUMBER_GAP_RE
NUMBER_TOKEN_RE: Final = _patterns.NUMBER_TOKEN_RE
NUMBER_TOKEN_WORDS: Final = _patterns.NUMBER_TOKEN_WORDS
ORDINALS: Final = _patterns.ORDINALS
SCALES: Final = _patterns.SCALES
STREET_AFTER_RE: Final = _patterns.STREET_AFTER_RE
TEENS: Final = _patterns.TEENS
TENS: Final = _patterns.TENS
UNITS: Final = _patterns.UNITS


_MAX_GAP: Final = 24
# No identifier is said in more than this many tokens; longer runs are split, which also
# bounds the per-run work on hostile input.
_MAX_RUN_TOKENS: Final = 48
_HARD_GAP_CHARS: Final = frozenset(",.-/()\u2013\u2014")


# Plain classes with an explicit __init__ (not dataclasses): mypyc compiles them to native
# classes, while a dataclass's generated __init__ would stay interpreted Python.
class Chunk:
    """One spoken or written number unit: its digits (or month), and where it was said."""

    __slots__ = (
        "digits",
        "end",
        "from_digits",
        "gap",
        "group_break",
        "month",
        "open_below",
        "ordinal",
        "start",
    )

    def __init__(
        self,
        digits: str,
        start: int,
        end: int,
        ordinal: bool = False,
        month: int = 0,
        from_digits: bool = False,
        group_break: bool = False,
        gap: str = "",
        open_below: int = 0,
    ) -> None:
        self.digits = digits
        self.start = start
        self.end = end
        self.ordinal = ordinal
        self.month = month
        self.from_digits = from_digits
        # The pause before this chunk was a comma, dash or slash: speakers group phone digits so.
        self.group_break = group_break
        self.gap = gap
        # A number word that can still absorb a smaller one ("twenty" + "three", "hundred"...).
        self.open_below = open_below

    def __repr__(self) -> str:
        return f"Chunk({self.digits!r}, {self.start}, {self.end}, month={self.month})"

    @property
    def value(self) -> int:
        """The chunk's numeric value (0 for a month chunk)."""
        return int(self.digits) if self.digits else 0


class Run:
    """Number tokens said together, read into chunks."""

    __slots__ = ("chunks",)

    def __init__(self, chunks: list[Chunk] | None = None) -> None:
        self.chunks: list[Chunk] = chunks if chunks is not None else []

    def __repr__(self) -> str:
        return f"Run({self.chunks!r})"

    @property
    def start(self) -> int:
        """Offset of the first token."""
        return self.chunks[0].start

    @property
    def end(self) -> int:
        """Offset just past the last token."""
        return self.chunks[-1].end

    def digits(self, first: int = 0, last: int | None = None) -> str:
        """Concatenated digits of chunks[first:last], months left out."""
        return "".join(c.digits for c in self.chunks[first:last] if not c.month)


# A number token in a run: (start, end, token, all digits, the gap before it in the run).
Token = tuple[int, int, str, bool, str]


def number_runs(
    lower: str,
    text: str | None = None,
    pos: int = 0,
    endpos: int | None = None,
    street_clear: int = -1,
    digits: bool = True,
    marked: str = "",
    words: list[str] | None = None,
) -> list[Run]:
    """Every run of number tokens in lower-cased text that could hold PHI, read into chunks.

    With the original text, "OH" in capitals (Ohio) is not read as zero. pos and endpos
    limit the search to a window (lookbacks still see the whole text). street_clear: see
    `street_after`. digits, marked, words: what the caller knows of the window already (see
    number_tokens).
    """
    endpos = len(lower) if endpos is None else endpos
    check_oh = text is not None and text.find("OH", pos, endpos) != -1
    groups: list[list[Token]] | None = None
    if _NATIVE is not None and not check_oh:
        # The C scanner groups the tokens as token_groups does (_scan.c, number_runs).
        groups = _SCAN_RUNS(_TOKEN_TABLE, lower, pos, endpos, _MAX_GAP, _MAX_RUN_TOKENS)
    if groups is None:
        groups = token_groups(lower, text if check_oh else None, pos, endpos, digits, marked, words)
    runs: list[Run] = []
    for tokens in groups:
        if _may_matter(lower, tokens, street_clear):
            run = _read(tokens)
            if run.chunks:
                runs.append(run)
    return runs


def token_groups(
    lower: str,
    text: str | None,
    pos: int,
    endpos: int,
    digits: bool = True,
    marked: str = "",
    words: list[str] | None = None,
) -> list[list[Token]]:
    """The number tokens of lower[pos:endpos] grouped into runs (number_runs' first step).

    A token joins the run before it when the gap since the run's last token is a single
    space, or a pause (NUMBER_GAP_RE) of at most _MAX_GAP characters in a run of fewer than
    _MAX_RUN_TOKENS tokens. With text: a token written "OH" is not a token (Ohio).
    """
    groups: list[list[Token]] = []
    current: list[Token] = []
    append = current.append
    prev_end = -1
    gap_ok = NUMBER_GAP_RE.fullmatch
    for start, end, tok in number_tokens(lower, pos, endpos, digits, marked, words):
        if text is not None and tok == "oh" and text[start:end] == "OH":
            continue
        if current:
            gap = lower[prev_end:start]
            if gap != " " and (
                len(gap) > _MAX_GAP
                or len(current) >= _MAX_RUN_TOKENS
                # (a gap of pause characters alone, ", " or " - ", needs no regex call)
                or (gap.strip(_PAUSE_CHARS) != "" and not gap_ok(gap))
            ):
                groups.append(current)
                current = []
                append = current.append
                gap = ""
        else:
            gap = ""
        prev_end = end
        append((start, end, tok, tok[0].isdigit(), gap))
    if current:
        groups.append(current)
    return groups


# The characters NUMBER_GAP_RE reads one by one (a gap made only of them is a pause).
_PAUSE_CHARS: Final = " \t,.-/()+\u2013\u2014"
# Bytes of an ASCII window as words for number_tokens: [a-z0-9_'] stay, the rest is a blank.
_TOKEN_BYTES: Final = bytes(
    c if (0x61 <= c <= 0x7A or 0x30 <= c <= 0x39 or c in (0x27, 0x5F)) else 0x20 for c in range(256)
)
_TOKEN_WORDS: Final = frozenset(NUMBER_TOKEN_WORDS)
# The C word scanner (accel.native_scanner; None: the Python below does all the reading) and
# its table of the number words.
_NATIVE: Final[Any] = accel.native_scanner()
_TOKEN_TABLE: Final[Any] = (
    _NATIVE.table(dict.fromkeys(NUMBER_TOKEN_WORDS, 1)) if _NATIVE is not None else None
)
# Its functions bound once (a call through the module would look each up by name).
_SCAN_RUNS: Final[Any] = _NATIVE.number_runs if _NATIVE is not None else None
_SCAN_TOKENS: Final[Any] = _NATIVE.number_tokens if _NATIVE is not None else None


def number_tokens(
    lower: str,
    pos: int,
    endpos: int,
    digits: bool = True,
    marked: str = "",
    words: list[str] | None = None,
) -> list[tuple[int, int, str]]:
    r"""(start, end, token) of every NUMBER_TOKEN_RE match in lower[pos:endpos], in order.

    An ASCII window is split into words in C; a word that is a number word or all digits is
    exactly one token, a word of letters alone is none, and only a mixed word ("5th",
    "a1234567", "five's") goes to the regex, on its own span. The regex scans every position
    of the text; this touches the words and looks up each once. (The split keeps [a-z0-9_']
    together, as \w and the apostrophe are what the regex's boundaries depend on.)

    digits=False says the window holds no digit. A caller that has split the window already
    passes `marked` (the window, offset for offset, with every other character a blank or
    control character) and its words. The C scanner, when built, reads any ASCII window whose
    words do not mix digits with letters (`_scan.c`, number_tokens); the rest is read here.
    """
    if _NATIVE is not None:
        found = _SCAN_TOKENS(_TOKEN_TABLE, lower, pos, endpos)
        if found is not None:
            return found  # type: ignore[no-any-return]
    window = lower if pos == 0 and endpos == len(lower) else lower[pos:endpos]
    if words is None or not marked:
        if not window.isascii():
            return [
                (m.start(), m.end(), m.group())
                for m in NUMBER_TOKEN_RE.finditer(lower, pos, endpos)
            ]
        marked = window.encode("ascii").translate(_TOKEN_BYTES).decode("ascii")
        words = marked.split()
    tokens: list[tuple[int, int, str]] = []
    cursor = 0
    last = len(marked)
    # No digit, "_" or "'": every word is letters alone.
    letters_only = not digits and "_" not in window and "'" not in window
    for word in words:
        if word in _TOKEN_WORDS:
            mixed = False
        elif letters_only or word.isalpha():
            continue
        else:
            mixed = not word.isdigit()
        size = len(word)
        at = marked.find(word, cursor)
        # The first hit after the previous token may sit inside a skipped word: go on to the
        # one standing alone.
        while (at > 0 and marked[at - 1] > " ") or (at + size < last and marked[at + size] > " "):
            at = marked.find(word, at + 1)
        cursor = at + size
        start = pos + at
        if mixed:
            tokens.extend(
                (m.start(), m.end(), m.group())
                for m in NUMBER_TOKEN_RE.finditer(lower, start, start + size)
            )
        else:
            tokens.append((start, start + size, word))
    return tokens


_PAIR_KEEP_WORDS: Final = frozenset(("ninety", "hundred", "thousand"))
# birth|\bborn\b|\bd\.?\s?o\.?\s?b\b, written so that every alternative opens with a literal
# letter: the regex engine then skips in C to the few positions holding a "b" or "d" instead
# of trying the pattern at every position (a leading \b defeats that); the word boundary
# before "born"/"dob" is the lookbehind after their first letter.
_BIRTH_CUE_RE: Final = re.compile(r"b(?:irth|(?<!\w.)orn\b)|d(?<!\w.)\.?\s?o\.?\s?b\b")
# What STREET_AFTER_RE can read before its suffix word, loosely: a space, then at most five
# words (direction, ordinal, three name words) each followed by spaces. The suffix can only
# start where this stops or earlier.
_STREET_LEAD_RE: Final = re.compile(r"\s+(?:[\w'.\-]+\s+){0,5}")


def street_after(lower: str, end: int, street_clear: int) -> "re.Match[str] | None":
    """STREET_AFTER_RE.match(lower, end), without running it when no street word can follow.

    street_clear >= 0: the window holding `end` ends there and holds no street suffix word
    (the gate saw none), so a match needs its suffix at or past street_clear: impossible at
    the end of the text, or when the words the pattern may read first stop short of it.
    """
    if street_clear >= 0:
        # (the lead opens with a blank: a number followed by anything else, or by nothing,
        # needs no regex call)
        if street_clear >= len(lower) or end >= len(lower) or not lower[end].isspace():
            return None
        lead = _STREET_LEAD_RE.match(lower, end)
        if lead is None or lead.end() < street_clear:
            return None
    return STREET_AFTER_RE.match(lower, end)


def _may_matter(lower: str, tokens: list[Token], street_clear: int) -> bool:
    """Cheap test before reading a run: could it be PHI at all?"""
    if len(tokens) == 1:
        return _single_may_matter(lower, tokens[0], street_clear)
    if len(tokens) > 2:
        return True
    # Two tokens ("three fifteen", "2 tablets", "room 4 12"): a time, dose or count unless a
    # month, a long digit group, an age word, a slash (11/30), a birth word before them or a
    # street after them. (The token tests first: they need no regex.)
    for _, _, tok, is_digits, gap in tokens:
        if tok in MONTHS or tok in _PAIR_KEEP_WORDS or "/" in gap:
            return True
        if is_digits and len(tok) >= 3:
            return True
    if _BIRTH_CUE_RE.search(lower, max(0, tokens[0][0] - 32), tokens[0][0]):
        return True  # "my birthday's six seventeen": a month and a day
    return street_after(lower, tokens[-1][1], street_clear) is not None


def _single_may_matter(lower: str, token: Token, street_clear: int) -> bool:
    """A lone number token is PHI only as a long id, a house number, ZIP or an age over 89.

    This fast path skips the common lone "two", "at 3", "room 12" without reading them.
    """
    _, end, tok, is_digits, _ = token
    if not is_digits:
        return tok == "ninety" or street_after(lower, end, street_clear) is not None
    digits = tok.rstrip("stndrh")
    if len(digits) >= 4 or (len(digits) == 2 and digits[0] == "9"):
        return True
    return (len(digits) <= 3 and street_after(lower, end, street_clear) is not None) or (
        len(digits) == 3 and digits[0] == "1" and digits <= "125"
    )


# How each number word reads: (what it is, its value). One lookup per token in `_read`.
_DASH: Final = 0
_MULTIPLIER: Final = 1
_MONTH: Final = 2
_SCALE: Final = 3
_NUMBER: Final = 4
_TENS: Final = 5
_ZERO: Final = 6
_WORD_INFO: Final[dict[str, tuple[int, int]]] = {
    **{w: (_NUMBER, v) for w, v in UNITS.items()},
    **{w: (_NUMBER, v) for w, v in TEENS.items()},
    **{w: (_TENS, v) for w, v in TENS.items()},
    **dict.fromkeys(("oh", "o", "zero"), (_ZERO, 0)),
    **{w: (_MULTIPLIER, v) for w, v in MULTIPLIERS.items()},
    **{w: (_SCALE, v) for w, v in SCALES.items()},
    **{w: (_MONTH, v) for w, v in MONTHS.items()},
    "dash": (_DASH, 0),
    "hyphen": (_DASH, 0),
}


def _hard_gap(gap: str) -> bool:
    """Does the pause hold a comma, dot, dash, slash or bracket, or a spoken "dash"?"""
    for ch in gap:
        if ch in _HARD_GAP_CHARS:
            return True
    return "dash" in gap


def _read(tokens: list[Token]) -> Run:
    """Fold tokens into chunks: tens absorb units, "hundred"/"thousand" scale what came before."""
    chunks: list[Chunk] = []
    repeat = 1
    for start, end, tok, is_digits, gap in tokens:
        # "fifty-five" is one number; "555-0123" and "five, five" are two groups.
        hard = gap != " " and gap != "" and _hard_gap(gap) and not (gap == "-" and not is_digits)
        if is_digits:
            digits = tok.rstrip("stndrh")
            chunks.append(Chunk(digits, start, end, len(digits) < len(tok), 0, True, hard, gap))
            repeat = 1
            continue
        what, value = _WORD_INFO.get(tok, (_NUMBER, 0))
        if what == _DASH:
            # A spoken dash separates digit groups; the next chunk starts a new group.
            repeat = 1
            if chunks:
                chunks[-1].open_below = 0
            continue
        if what == _MULTIPLIER:
            repeat = value
            continue
        if what == _MONTH:
            chunks.append(Chunk("", start, end, False, value, False, hard, gap))
            repeat = 1
            continue
        last = chunks[-1] if chunks else None
        if what == _SCALE:
            # Only small numbers scale ("nineteen hundred", "two thousand"); "hundred hundred"
            # and the like start afresh, so values stay bounded whatever the input.
            if last is not None and not last.month and 0 < last.value < 1000 and not last.ordinal:
                last.digits, last.end, last.open_below = str(last.value * value), end, value
            else:
                chunks.append(Chunk(str(value), start, end, False, 0, False, hard, gap, value))
            continue
        ordinal_value = ORDINALS.get(tok)
        ordinal = ordinal_value is not None
        if ordinal:
            value = ordinal_value  # type: ignore[assignment]
        if (
            last is not None
            and last.open_below
            and not hard
            and what != _ZERO
            and not last.ordinal
            and 0 < value < last.open_below
        ):
            # "twenty" + "three", "one hundred" + "twenty", "two thousand" + "five"
            last.digits = str(last.value + value)
            last.end, last.ordinal = end, ordinal
            last.open_below = 10 if what == _TENS and last.open_below > 10 else 0
            continue
        digits = (str(value) if what != _ZERO else "0") * repeat
        repeat = 1
        chunks.append(
            Chunk(digits, start, end, ordinal, 0, False, hard, gap, 10 if what == _TENS else 0)
        )
    return Run(chunks)


def digit_groups(run: Run, first: int = 0, last: int | None = None) -> list[str]:
    """Digits of chunks[first:last] split where the speaker paused with a comma or dash."""
    groups: list[str] = []
    for i, chunk in enumerate(run.chunks[first:last]):
        if chunk.month:
            continue
        if not groups or (chunk.group_break and i > 0):
            groups.append(chunk.digits)
        else:
            groups[-1] += chunk.digits
    return groups


def plausible_date_digits(digits: str) -> bool:
    """True when a digit string reads as month-day-year ("31580", "03151980", "3151980")."""
    n = len(digits)
    if n < 4 or n > 8:
        return False
    for mlen in (1, 2):
        for dlen in (1, 2):
            ylen = n - mlen - dlen
            if ylen not in (2, 4):
                continue
            month = int(digits[:mlen])
            day = int(digits[mlen : mlen + dlen])
            year = digits[mlen + dlen :]
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            if ylen == 4 and year[:2] not in ("19", "20"):
                continue
            return True
    return False


def year_chunks(run: Run, index: int) -> int:
    """How many chunks from `index` on spell a year ("nineteen eighty", "1980", "eighty five")."""
    chunks = run.chunks
    if index >= len(chunks) or chunks[index].month or chunks[index].ordinal:
        return 0
    first = chunks[index].digits
    if len(first) == 4 and first[:2] in ("19", "20"):
        return 1
    if len(first) == 2 and not chunks[index].from_digits and first[0] != "0":
        # "nineteen" + "eighty", "twenty" + "oh" + "five", "twenty twenty-four"
        joined = first
        count = 1
        while len(joined) < 4 and index + count < len(chunks):
            nxt = chunks[index + count]
            if nxt.month or nxt.ordinal:
                break
            joined += nxt.digits
            count += 1
        if len(joined) == 4 and joined[:2] in ("19", "20"):
            return count
        # a bare two-digit year: "March third, eighty"
        return 1 if first[0] in "456789" or first in ("00", "10") else 0
    if len(first) == 2 and chunks[index].from_digits and chunks[index].gap.strip() in (",", "'"):
        return 1
    return 0
