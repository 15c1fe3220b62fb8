"""The redaction engine: find PHI in free text, written or spoken, and mask it with typed tags.

`redact(text, known=...)` returns the masked text and the spans it found (input offsets).
Detection is rules, lexicons and cue words, not a model: written identifiers by compiled
regexes, spoken numbers, dates and letters by one token pass (`spoken.py`), names by a
census lexicon plus cue phrases ("my name is", "Mr."), and the caller's own known values
(`known.py`) in every form they can be said. An NER backend may add spans (`backends.py`).

Decisions a reviewer should know:
- DATE masks full dates (month and day, with or without a year) and numeric dates, since any
  date in a patient's call or note is tied to them (HIPAA Safe Harbor); a year alone, a
  weekday or a time of day ("at three fifteen") is not masked.
- A run of seven or more digits said together is an identifier even without a cue word
  (phone, SSN, member id); shorter numbers (doses, rooms, menu choices, counts, times)
  are masked only when a cue says what they are ("zip code", "last four of my social").
- Overlapping detections merge; the merged span takes the most specific kind.

- Gates: each window (the text, or one line of a long text) is read once for its words, and
  a detector runs only when its trigger words occur. A gate is a shortcut, never a rule: a
  detector it skips would find nothing there (tests/phi/test_redaction_gates.py), so the name
  detector, for instance, runs on a strong cue, a soft cue before a lexicon given name or
  after-cue capital, or a lexicon word written capitalised. Where the words say where to
  look, no regex scans the window: number tokens are read from the words, cue phrases and
  spellings are matched only at their trigger words and single letters, a street pattern
  only when a street word occurs.
- The word reading is done by a small C scanner when it is built (`_scan.c`, `make accel`):
  the gate's look-ups, the number tokens grouped into runs, capitalised words, single
  letters, the words before a number. It holds no rule: each of its functions returns what a
  Python function or regex here returns (the reference, and the path taken without it, for
  a window that is not ASCII, or under PHI_REDACTION_PURE=1), and
  tests/phi/test_redaction_native.py holds each to its reference.
- Long texts with line breaks (transcripts, documents) are gated line by line, while cue
  look-backs still read the whole text (a cue on the agent's line still labels the caller's
  number).

Speed (`make bench`: one core, medians of rounds in which the engine and a three-regex
baseline take turns; the machine is shared, so the ratio is the steadier figure). Compiled
(mypyc and the C scanner, `make accel`), ten runs in Dec 2026, medians [ranges]: utterance
by utterance 13.9 MB/s [12.4-14.5] against the baseline's 13.5 [13.0-14.0], a ratio of 1.04
[0.92-1.06] (the engine, with the larger working set, loses more when the other core is
busy), 275,000 utterances/s; whole transcripts 17.1 MB/s (baseline 16.8); a 1 MB document
11.9 MB/s (0.71 of the baseline's: the street look-ahead and the sort of many spans cost more
on one long text); p99 0.016 ms per utterance (baseline 0.0075). (The bench times the spans
as find_spans returns them; turning each kind into its `.value` as well, as the bench used
to, costs about 0.3 us an utterance, some 8%.) Before the C scanner: 0.47-0.58 of the
baseline's speed. Pure Python: about 0.21 of the baseline's, 2.9 MB/s. The time is spread
over the rules themselves (number reading and classification, cue phrases and names, each a
few percent), the scanner's passes (about a fifth), the regexes that confirm a detection,
and the garbage collector (3-4%).

Invariant: linear time in the input (see patterns.py); nothing here logs the text it reads.
"""

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final, NamedTuple, Protocol

from . import accel, context
from . import patterns as _patterns
from .known import KnownMatcher, known_matcher
from .patterns import Kind, first_names, last_names
from .spoken import (
    _BIRTH_CUE_RE,
    Chunk,
    Run,
    digit_groups,
    number_runs,
    plausible_date_digits,
    street_after,
    year_chunks,
)

# patterns' constants bound here as Final: the compiled module then keeps them in C statics
# instead of looking each up in the module's dict on every use.
AGE_AFTER_RE: Final = _patterns.AGE_AFTER_RE
AGE_BEFORE_RE: Final = _patterns.AGE_BEFORE_RE
AGE_PERSON_AFTER_RE: Final = _patterns.AGE_PERSON_AFTER_RE
AGE_PERSON_BEFORE_RE: Final = _patterns.AGE_PERSON_BEFORE_RE
AMBIGUOUS_FIRST_NAMES: Final = _patterns.AMBIGUOUS_FIRST_NAMES
CAP_WORD_RE: Final = _patterns.CAP_WORD_RE
CUE_FOLLOWERS: Final = _patterns.CUE_FOLLOWERS
CUE_WORDS: Final = _patterns.CUE_WORDS
EMAIL_DOMAIN_RE: Final = _patterns.EMAIL_DOMAIN_RE
EMAIL_LOCAL_RE: Final = _patterns.EMAIL_LOCAL_RE
EMAIL_LOCAL_STOP: Final = _patterns.EMAIL_LOCAL_STOP
EMAIL_TLDS: Final = _patterns.EMAIL_TLDS
KIND_PRIORITY: Final = _patterns.KIND_PRIORITY
LOOSE_CUE_SET: Final = _patterns.LOOSE_CUE_SET
MRN_WRITTEN_RE: Final = _patterns.MRN_WRITTEN_RE
NAME_CUE_FINDER_RE: Final = _patterns.NAME_CUE_FINDER_RE
NAME_CUE_OFFSETS: Final = _patterns.NAME_CUE_OFFSETS
NAME_CUE_STOPWORDS: Final = _patterns.NAME_CUE_STOPWORDS
NAME_TRIGGER_WORDS: Final = _patterns.NAME_TRIGGER_WORDS
NOT_NAMES: Final = _patterns.NOT_NAMES
NUMBER_VOCAB: Final = _patterns.NUMBER_VOCAB
PO_BOX_RE: Final = _patterns.PO_BOX_RE
SPELLED_RE: Final = _patterns.SPELLED_RE
SPOKEN_EMAIL_DOMAIN_RE: Final = _patterns.SPOKEN_EMAIL_DOMAIN_RE
STATE_BEFORE_RE: Final = _patterns.STATE_BEFORE_RE
STREET_SUFFIXES: Final = _patterns.STREET_SUFFIXES
WEAK_CUE_SET: Final = _patterns.WEAK_CUE_SET


class Span(NamedTuple):
    """A stretch of the input that holds PHI: [start, end) and what it is."""

    start: int
    end: int
    kind: Kind


# The kinds as Final constants (C statics when compiled, not an attribute lookup per use).
KIND_NAME: Final = Kind.NAME
KIND_DATE: Final = Kind.DATE
KIND_PHONE: Final = Kind.PHONE
KIND_SSN: Final = Kind.SSN
KIND_MRN: Final = Kind.MRN
KIND_EMAIL: Final = Kind.EMAIL
KIND_ADDRESS: Final = Kind.ADDRESS
KIND_AGE: Final = Kind.AGE

# A detection inside the engine: (start, end, kind), a plain tuple (cheaper to build than a
# Span; merge_spans turns the merged ones into Spans).
Hit = tuple[int, int, Kind]
# A capitalised word (CAP_WORD_RE's match): (start, end, the word lower-cased).
CapWord = tuple[int, int, str]


class RedactionResult(NamedTuple):
    """The masked text and the spans (input offsets) that were masked."""

    text: str
    spans: list[Span]


class NerBackend(Protocol):
    """An optional model (e.g. Presidio) that adds spans to the rule engine's."""

    def find(self, text: str) -> Iterable[Span]:
        """Spans the model finds in text."""
        ...


# The installed backend, in a one-item list: a module constant the compiled engine reads
# without a look-up in the module's dict.
_BACKEND: Final[list[NerBackend | None]] = [None]


def backend_install(backend: NerBackend | None) -> None:
    """Plug in (or remove, with None) an NER backend used by every later redact() call."""
    _BACKEND[0] = backend


def mask_for(kind: Kind | str) -> str:
    """The placeholder a span of this kind becomes: "[PHONE]"."""
    return f"[{kind}]"


def redact(text: str, *, known: Mapping[str, object] | None = None) -> RedactionResult:
    """Mask PHI in text; `known` adds the caller's own values (merged with the context's)."""
    spans = find_spans(text, known=known)
    return RedactionResult(apply_masks(text, spans), spans)


def redact_text(text: str, *, known: Mapping[str, object] | None = None) -> str:
    """Just the masked text."""
    return redact(text, known=known).text


def apply_masks(text: str, spans: list[Span]) -> str:
    """Replace each (sorted, disjoint) span by its placeholder."""
    if not spans:
        return text
    parts: list[str] = []
    pos = 0
    for span in spans:
        parts.append(text[pos : span.start])
        parts.append(mask_for(span.kind))
        pos = span.end
    parts.append(text[pos:])
    return "".join(parts)


def find_spans(text: str, *, known: Mapping[str, object] | None = None) -> list[Span]:
    """Sorted, disjoint PHI spans in text."""
    if not text:
        return []
    lower = text.lower()
    found: list[Hit] = []
    # (context.has_known() inlined: a call into a Python function costs more than the lookup)
    scope = _SCOPE_GET()
    matcher = _matcher_for(known) if known or (scope is not None and scope.known) else None
    # The number runs are kept for the known-value matcher only: without one, each window's
    # runs are freed as soon as they are classified.
    runs: list[Run] | None = [] if matcher is not None else None
    if len(text) <= _WINDOW_MIN or "\n" not in text:
        _find_in_window(text, lower, 0, len(text), found, runs)
    else:
        # A long text (a transcript, a document) is gated line by line, so a detector runs
        # only on the lines that hold its trigger words; lookbacks (cue words) still read the
        # whole text, so "date of birth?\nCaller: three fifteen eighty" keeps its cue.
        pos = 0
        size = len(text)
        while pos < size:
            end = text.find("\n", pos)
            if end == -1:
                end = size
            if end > pos:
                _find_in_window(text, lower, pos, end, found, runs)
            pos = end + 1
    if matcher is not None and runs is not None:
        found.extend(matcher.find(text, lower, runs))
    backend = _BACKEND[0]
    if backend is not None:
        found.extend(backend.find(text))
    return merge_spans(found, text)


# Texts longer than this with line breaks are gated per line.
_WINDOW_MIN: Final = 512
# The request's redaction scope (context.SCOPE, a ContextVar bound once at import), read
# without a module attribute and a method look-up per text.
_SCOPE_GET: Final = context.SCOPE.get


def _find_in_window(
    text: str, lower: str, pos: int, endpos: int, found: list[Hit], runs: list[Run] | None
) -> None:
    """Run the detectors whose trigger words occur in text[pos:endpos] on that window; add
    its number runs to `runs` unless that is None."""
    # Gates: one cheap pass collects the window's words, and each detector runs only when its
    # trigger words occur. Most utterances ("okay, Thursday works") skip most detectors.
    bits, has_digit, number_words, spelling, changed, hits, marked, reuse = _gate(
        text, lower, pos, endpos
    )
    # A lone number word ("the first one") is PHI only as an age or a house number.
    if has_digit or number_words >= 2 or (number_words == 1 and bits & (_NINETY | _STREET)):
        # No street suffix in the window: the street pattern after a number need not run.
        street_clear = -1 if bits & _STREET else endpos
        window_runs = number_runs(
            lower,
            text,
            pos,
            endpos,
            street_clear,
            has_digit,
            reuse,
            reuse.split() if reuse else None,
        )
        for run in window_runs:
            _classify_run(run, text, lower, found, street_clear)
        if runs is not None:
            runs.extend(window_runs)
    if has_digit:
        _find_written(lower, found, pos, endpos)
    if text.find("@", pos, endpos) != -1 or (
        bits & _AT and (bits & _DOT or text.find(".", pos, endpos) != -1) and bits & _TLD
    ):
        _find_emails(text, lower, found, pos, endpos)
    if spelling:
        letters = [w for w in hits if _GATE_BITS[w] & _LETTER]
        _find_spelled(lower, found, pos, endpos, marked, letters)
    # A name needs a strong cue ("my name is", "Mr"), a softer cue ("this is") before a
    # lexicon given name or a capitalised word, or a lexicon word written capitalised.
    if bits & (_LOOSE | _NAME_TRIGGER | _LEXICON):
        caps: list[CapWord] | None = None
        run_names = bits & _LOOSE or (bits & _NAME_TRIGGER and bits & _WEAK_FIRST)
        # Else a capitalised word must follow a cue or be a lexicon word itself (no capital
        # letter at all: neither).
        if not run_names and changed:
            caps = _cap_words(text, lower, pos, endpos)
            run_names = (
                len(lower) != len(text)  # offsets of text and lower differ: let it look
                or (bits & _NAME_TRIGGER and any(_after_word(lower, c[0], pos) for c in caps))
                or (bits & _LEXICON and any(c[2] in _LEXICON_WORDS for c in caps))
            )
        if run_names:
            cue_words = [w for w in hits if _GATE_BITS[w] & (_NAME_TRIGGER | _LOOSE)]
            _find_names(text, lower, found, pos, endpos, cue_words, caps)


# What the gate says of a window: bits (the gates opened), has_digit, how many of the
# window's words open the number gate (0, 1, or 2 for "two or more"), spelling (two or more
# single letters, one of them a spelling letter standing alone), changed (text[pos:endpos] !=
# lower[pos:endpos]), hits (the gate words found), and from the Python pass the window as
# the byte table marks it and, if the number reader can reuse that, the same again ("": no).
GateView = tuple[int, bool, int, bool, bool, Collection[str], str, str]


def _gate(text: str, lower: str, pos: int, endpos: int) -> GateView:
    """The gate of text[pos:endpos]: read by the C scanner when it can, else in Python."""
    if _NATIVE is not None and len(lower) == len(text):
        scanned = _SCAN_GATE(_GATE_TABLE, text, lower, pos, endpos, _NUMBER, _LETTER)
        if scanned is not None:
            return _gate_from_scan(scanned)
    return _gate_python(text, lower, pos, endpos)


def _gate_from_scan(
    scanned: tuple[int, int, bool, bool, bool, tuple[str, ...], int, int],
) -> GateView:
    """The C scanner's gate (_scan.c, gate, asked to count the number and letter words): the
    same words, pieces and tails as below."""
    bits, word_bits, has_digit, apostrophe, changed, hits, number_words, letter_words = scanned
    spelling = bool(
        bits & _SPELLING and (not apostrophe or word_bits & _SPELLING) and letter_words >= 2
    )
    return bits, has_digit, number_words, spelling, changed, hits, "", ""


def _gate_python(text: str, lower: str, pos: int, endpos: int) -> GateView:
    """The gate in Python (the reference for _scan.c's)."""
    window = lower if pos == 0 and endpos == len(lower) else lower[pos:endpos]
    marked = ""
    if len(lower) == len(text):
        # The words in C without the regex engine: one byte table keeps [a-z'] and turns
        # every other byte into whitespace (digits into \x1f, which split() also skips).
        # (encode() itself says whether the window is ASCII: cheaper than asking isascii().)
        try:
            marked = window.encode("ascii").translate(_WORD_BYTES).decode("ascii")
        except UnicodeEncodeError:
            marked = ""
    if marked or not window:
        words = marked.split()
        has_digit = "\x1f" in marked
    else:
        words = _VOCAB_RE.findall(lower, pos, endpos)
        has_digit = _DIGIT_RE.search(text, pos, endpos) is not None
    # One C-level intersection with every gate word; the few words found say which gates open.
    hits = _GATE_WORDS.intersection(words)
    pieces = words
    if "'" in window:
        # The patterns' word boundaries also fall at an apostrophe ("'five'", "st's", "i've"):
        # the gates look at the pieces between apostrophes too.
        # (and what follows each apostrophe whole: "this'i'm" holds the cue "i'm")
        pieces = " ".join(words).replace("'", " ").split()
        hits = hits | _GATE_WORDS.intersection(pieces) | _GATE_WORDS.intersection(_tails(words))
    bits = 0
    for word in hits:
        bits |= _GATE_BITS[word]
    number_words = _count(pieces, hits, _NUMBER) if bits & _NUMBER else 0
    # A spelling is two or more single letters ("i've" holds one), one of them not "a" or "i"
    # standing alone.
    spelling = bool(
        bits & _SPELLING
        and (pieces is words or not _SPELLING_LETTERS.isdisjoint(words))
        and _count(pieces, hits, _LETTER) >= 2
    )
    changed = text[pos:endpos] != window
    # Without digits or "_" the gate's words are the number reader's words too.
    reuse = marked if not has_digit and "_" not in window else ""
    return bits, has_digit, number_words, spelling, changed, hits, marked, reuse


def _after_word(lower: str, at: int, pos: int) -> bool:
    """Blanks, commas or colons, after a word, before `at`: where a cue phrase would end.

    (A cue phrase ends in a letter or, for "mr.", a dot; its name follows [ \t,:]+.)
    """
    k = at
    while k > pos and lower[k - 1] in _CUE_TAIL:
        k -= 1
    return pos < k < at and lower[k - 1] in _WORD_END


def _tails(words: list[str]) -> list[str]:
    """What follows each apostrophe inside the words, to the word's end."""
    tails: list[str] = []
    for word in words:
        at = word.find("'")
        while at != -1:
            tails.append(word[at + 1 :])
            at = word.find("'", at + 1)
    return tails


def _count(pieces: list[str], hits: frozenset[str], bit: int) -> int:
    """How many of the window's words open gate `bit`: 0, 1, or 2 for "two or more"."""
    first = ""
    for word in hits:
        if _GATE_BITS[word] & bit:
            if first:
                return 2
            first = word
    return pieces.count(first) if first else 0


_VOCAB_RE: Final = re.compile(r"[a-z']+")
_CUE_TAIL: Final = frozenset(" \t,:")
_WORD_END: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789;")
LOOSE_TRIGGER_WORDS: Final = frozenset(("name", "name's", "mr", "mrs", "ms", "mister"))
STREET_WORDS: Final = frozenset(STREET_SUFFIXES.split("|"))
_DIGIT_RE: Final = re.compile(r"\d")
# Byte table for the words of an ASCII window: what _VOCAB_RE finds, the rest whitespace.
_WORD_BYTES: Final = bytes(
    c if (0x61 <= c <= 0x7A or c == 0x27) else 0x1F if 0x30 <= c <= 0x39 else 0x20
    for c in range(256)
)
# Single letters that start a spelling; "a" and "i" are words, so they alone never do.
_SPELLING_LETTERS: Final = frozenset("bcdefghjklmnopqrstuvwxyz")


# Which gate a word opens, as bits (a word may open several).
_NUMBER: Final = 1
_NINETY: Final = 2
_STREET: Final = 4
_AT: Final = 8
_DOT: Final = 16
_TLD: Final = 32
_SPELLING: Final = 64
_LOOSE: Final = 128
_NAME_TRIGGER: Final = 256
_LEXICON: Final = 512
_WEAK_FIRST: Final = 1024
_LETTER: Final = 2048


def _gate_bits() -> dict[str, int]:
    """Every gate word, and the gates it opens."""
    firsts = first_names()
    bits: dict[str, int] = {}
    for words, bit in (
        (NUMBER_VOCAB, _NUMBER),
        (("ninety",), _NINETY),
        (STREET_WORDS, _STREET),
        (("at",), _AT),
        (("dot", "period"), _DOT),
        (EMAIL_TLDS, _TLD),
        (_SPELLING_LETTERS, _SPELLING),
        (LOOSE_TRIGGER_WORDS, _LOOSE),
        (NAME_TRIGGER_WORDS, _NAME_TRIGGER),
        (firsts | last_names(), _LEXICON),
        # what `_weak_name_after` takes as a name after a soft cue
        (firsts - NAME_CUE_STOPWORDS - AMBIGUOUS_FIRST_NAMES, _WEAK_FIRST),
        ("abcdefghijklmnopqrstuvwxyz", _LETTER),
    ):
        for word in words:
            bits[word] = bits.get(word, 0) | bit
    return bits


# Built at import (the lexicons are small): module constants cost the compiled engine no
# function call per text.
_GATE_BITS: Final = _gate_bits()
_GATE_WORDS: Final = frozenset(_GATE_BITS)
_FIRST_NAMES: Final = first_names()
_LAST_NAMES: Final = last_names()
_LEXICON_WORDS: Final = _FIRST_NAMES | _LAST_NAMES
# The C word scanner (accel.native_scanner; None: the gate runs in Python) and its table of
# the gate words.
_NATIVE: Final[Any] = accel.native_scanner()
_GATE_TABLE: Final[Any] = _NATIVE.table(_GATE_BITS) if _NATIVE is not None else None
# Its functions bound once (a call through the module would look each up by name).
_SCAN_GATE: Final[Any] = _NATIVE.gate if _NATIVE is not None else None
_SCAN_CUE_WORDS: Final[Any] = _NATIVE.cue_words if _NATIVE is not None else None
_SCAN_LETTERS_ALONE: Final[Any] = _NATIVE.letters_alone if _NATIVE is not None else None
_SCAN_CAP_WORDS: Final[Any] = _NATIVE.cap_words if _NATIVE is not None else None
_SCAN_AS_INSTANCES: Final[Any] = _NATIVE.as_instances if _NATIVE is not None else None


def _matcher_for(known: Mapping[str, object] | None) -> KnownMatcher | None:
    values = context.current_known()
    if known:
        values = context.merge_known(values, known)
    return known_matcher(values) if values else None


# --- numbers, dates and identifiers said as numbers ----------------------------------------


_CUE_SPLIT_RE: Final = re.compile(r"[a-z#']+")
_CUE_BYTES: Final = bytes(
    c if (0x61 <= c <= 0x7A or c in (0x23, 0x27)) else 0x20 for c in range(256)
)


def _cue(lower: str, start: int) -> str | None:
    """What the nearest cue word before `start` says the number is."""
    # _CUE_SPLIT_RE's words: by the C scanner, else for ASCII by one byte table and split().
    words: list[str]
    if _NATIVE is not None:
        words = _SCAN_CUE_WORDS(lower, max(0, start - 48), start)
    else:
        before = lower[max(0, start - 48) : start]
        words = (
            before.encode("ascii").translate(_CUE_BYTES).decode("ascii").split()
            if before.isascii()
            else _CUE_SPLIT_RE.findall(before)
        )
    for i in range(len(words) - 1, -1, -1):
        word = words[i]
        if "'" in word:
            word = word.removesuffix("'s")
        kind = CUE_WORDS.get(word)
        if word in CUE_FOLLOWERS:
            before = words[i - 1] if i > 0 else ""
            previous = "mrn" if before == "id" else CUE_WORDS.get(before)
            if previous is not None and previous != "other":
                return previous
            if word in ("number", "numbers"):
                return "phone"
            if word == "id":
                return "mrn"
            continue
        if kind is None and len(word) == 1 and i >= 2:
            # spelled cues: "d o b", "s s n", "m r n"
            letters = "".join(words[i - 2 : i + 1])
            kind = {"dob": "dob", "ssn": "ssn", "mrn": "mrn"}.get(letters)
        if kind == "ssn" and word == "security" and i > 0 and words[i - 1] != "social":
            continue
        if word == "four" and i > 0 and words[i - 1] == "last":
            return "ssn"
        if kind is not None:
            return None if kind == "other" else kind
    return None


def _classify_run(run: Run, text: str, lower: str, out: list[Hit], street_clear: int) -> None:
    chunks = run.chunks
    used = [False] * len(chunks)
    for i, chunk in enumerate(chunks):
        if not chunk.month or used[i]:
            continue
        span = _date_around_month(run, i, used, lower)
        if span is not None:
            out.append((span[0], span[1], KIND_DATE))
    # What is left splits at months and used chunks into plain digit segments; written
    # numbers also split at ", " ("DOB 03/03/1980, 312-555-0147" is a date and a phone),
    # while spoken digits keep their commas (ASR writes pauses inside a number so).
    seg_start = None
    for i in range(len(chunks) + 1):
        usable = i < len(chunks) and not used[i] and not chunks[i].month
        if (
            usable
            and seg_start is not None
            and chunks[i].from_digits
            and chunks[i - 1].from_digits
            and ", " in chunks[i].gap
        ):
            _classify_digits(run, seg_start, i, text, lower, out, street_clear)
            seg_start = i
            continue
        if usable and seg_start is None:
            seg_start = i
        elif not usable and seg_start is not None:
            _classify_digits(run, seg_start, i, text, lower, out, street_clear)
            seg_start = None


def _is_day(chunk: Chunk) -> bool:
    return bool(
        not chunk.month and chunk.digits and len(chunk.digits) <= 2 and 1 <= chunk.value <= 31
    )


def _date_around_month(run: Run, i: int, used: list[bool], lower: str) -> tuple[int, int] | None:
    """A date built on the month chunk at i: "March third 1980", "the 3rd of March"."""
    chunks = run.chunks
    n = len(chunks)
    start: int | None = None
    end = 0
    last_used = i
    first_used = i
    day_before_ordinal = (
        i > 0 and not used[i - 1] and chunks[i - 1].ordinal and _is_day(chunks[i - 1])
    )
    if not day_before_ordinal and i + 1 < n and _is_day(chunks[i + 1]) and not used[i + 1]:
        start, end, last_used = chunks[i].start, chunks[i + 1].end, i + 1
    elif (
        i > 0
        and not used[i - 1]
        and _is_day(chunks[i - 1])
        and (chunks[i - 1].ordinal or year_chunks(run, i + 1))
    ):
        start, end, first_used = chunks[i - 1].start, chunks[i].end, i - 1
    if start is None:
        # "March 1980": month and four-digit year.
        if i + 1 < n and len(chunks[i + 1].digits) == 4 and year_chunks(run, i + 1):
            used[i] = used[i + 1] = True
            return chunks[i].start, chunks[i + 1].end
        return None
    years = year_chunks(run, last_used + 1)
    if years:
        last_used += years
        end = chunks[last_used].end
    else:
        # "nineteen forty one, May fourth": the year said first
        for back in (1, 2):
            k = first_used - back
            if (
                k >= 0
                and not any(used[k:first_used])
                and year_chunks(run, k) == back
                and len(run.digits(k, first_used)) == 4
            ):
                first_used, start = k, chunks[k].start
                break
    day_chunk = chunks[first_used] if first_used < i else chunks[i + 1]
    if (
        chunks[i].month == 7
        and day_chunk.value == 4
        and not years
        and first_used < i
        and _cue(lower, chunks[first_used].start) != "dob"
    ):
        return None  # "the 4th of July" is the holiday, unless it is someone's birthday
    for k in range(first_used, last_used + 1):
        used[k] = True
    return start, end


def _classify_digits(
    run: Run, first: int, last: int, text: str, lower: str, out: list[Hit], street_clear: int
) -> None:
    chunks = run.chunks[first:last]
    # The digits, whether all were written, each chunk's length, the gaps: one pass.
    parts: list[str] = []
    chunk_lens: list[int] = []
    gap_parts: list[str] = []
    written = True
    for c in chunks:
        parts.append(c.digits)
        chunk_lens.append(len(c.digits))
        if len(parts) > 1:
            gap_parts.append(c.gap)
        written = written and c.from_digits
    digits = "".join(parts)
    n = len(digits)
    if not n:
        return
    start, end = chunks[0].start, chunks[-1].end
    if (start > 0 and text[start - 1] in "$\u20ac\u00a3") or (
        text.find(",", start, end) != -1 and _AMOUNT_RE.fullmatch(text, start, end)
    ):
        return  # money: "$1,250.00", "1,250,000"
    # Written digits are grouped as written ("555 0199"); spoken ones where the speaker paused.
    lens = chunk_lens if written else [len(g) for g in digit_groups(run, first, last)]
    gaps = "".join(gap_parts)
    # Short plain numbers (times, doses, counts) never depend on a cue: skip the look-back.
    needs_cue = (
        n >= 4
        or len(chunks) >= 3
        or (n >= 2 and 90 <= int(digits[:3]) <= 125)
        # "(birthday) six seventeen": only a birth word nearby makes a spoken pair worth a look
        or (
            len(chunks) == 2
            and not written
            and _BIRTH_CUE_RE.search(lower, max(0, start - 32), start) is not None
        )
    )
    cue = _cue(lower, start) if needs_cue else None
    if written and n >= 5 and start > 0 and text[start - 1].isalpha():
        prefix = _ALNUM_PREFIX_RE.search(text, max(0, start - 5), start)
        if prefix is not None:
            # "A1234567", "XJH123456789": letters glued to digits make a record or member id
            out.append((prefix.start(), end, KIND_MRN))
            return
    kind = _kind_for_digits(digits, n, lens, written, gaps, cue, chunks, lower, start)
    if kind is None:
        _maybe_address_or_age(run, first, last, digits, text, lower, cue, out, street_clear)
        return
    if kind == KIND_MRN:
        # "k h one eight seven...": letters said before the digits belong to the id
        letters = _LETTERS_BEFORE_RE.search(lower, max(0, start - 16), start)
        if letters is None:
            letters = _ID_PREFIX_BEFORE_RE.search(text, max(0, start - 8), start)
            if letters is not None and letters.group().strip(" -").lower() in CUE_WORDS:
                letters = None  # "MRN 00412345": the label is not part of the id
        if letters is not None:
            start = letters.start()
    if kind == KIND_PHONE and start > 0 and text[start - 1] in "(+":
        start -= 1  # "(555) 012-3456", "+1 555...": the bracket or plus is part of the number
    out.append((start, end, kind))


_LETTERS_BEFORE_RE: Final = re.compile(r"(?:(?<![\w'])[a-z]\b[ ,\-]*){1,4}$")
# "XDP 442 918 337": a capitalised letter prefix said or written before the digits.
_ID_PREFIX_BEFORE_RE: Final = re.compile(r"(?<![\w'])[A-Z]{2,4}[ \-]?$")
_ALNUM_PREFIX_RE: Final = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{1,4}-?$")
_DATE_WORD_BEFORE_RE: Final = re.compile(
    r"\b(?:on|since|from|until|till|by|before|after|dob|date|born|of|due|seen|admitted)\s+$"
)
_AMOUNT_RE: Final = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?")


def _kind_for_digits(
    digits: str,
    n: int,
    lens: list[int],
    written: bool,
    gaps: str,
    cue: str | None,
    chunks: list[Chunk],
    lower: str,
    start: int,
) -> Kind | None:
    if (
        written
        and "," in gaps
        and len(lens) > 1
        and all(x == 3 for x in lens[1:])
        and " " not in gaps
    ):
        return None  # 1,250,000 is an amount, not an identifier
    if written and len(lens) == 3 and lens != [3, 2, 4] and lens != [3, 3, 4]:
        # 03/15/1980, 3-15-80, 1980-03-15: a written date, whatever cue came before it
        if _is_written_date(digits, lens):
            return KIND_DATE
        if "/" in gaps:
            return None
    if (
        written
        and len(lens) == 2
        and "/" in gaps
        and lens[0] <= 2
        and lens[1] <= 2
        and 1 <= int(digits[: lens[0]]) <= 12
        and 1 <= int(digits[lens[0] :]) <= 31
        and _DATE_WORD_BEFORE_RE.search(lower, max(0, start - 12), start)
    ):
        return KIND_DATE  # "on 11/30", "since 3/4"; "1/2 tablet" has no such word before it
    if cue == "dob" and (len(chunks) >= 3 or n in (6, 8)) and plausible_date_digits(digits):
        return KIND_DATE
    if (
        not written
        and len(lens) == 3
        and cue not in ("phone", "ssn", "mrn")
        and _is_written_date(digits, lens)
    ):
        return KIND_DATE  # "oh five, twenty one, two thousand and three": said in date groups
    if (
        cue == "dob"
        and not written
        and len(chunks) == 2
        and not chunks[0].ordinal
        and 1 <= chunks[0].value <= 12
        and 1 <= chunks[1].value <= 31
        and len(chunks[1].digits) <= 2
    ):
        return KIND_DATE  # "my birthday's six seventeen": month and day

    if cue == "ssn" and (n == 9 or n == 4):
        return KIND_SSN
    if cue == "mrn" and n >= 4:
        return KIND_MRN
    if cue == "zip" and n in (5, 9):
        return KIND_ADDRESS
    if lens == [3, 2, 4] and written:
        return KIND_SSN
    if n == 10 or (n == 11 and digits[0] == "1"):
        return KIND_PHONE
    if n == 7 and (cue == "phone" or lens == [3, 4] or not written):
        return KIND_PHONE
    if cue == "phone" and 7 <= n <= 11:
        return KIND_PHONE
    if n == 9 and cue != "dob":
        return KIND_SSN if lens == [3, 2, 4] else KIND_MRN
    if n >= 8:
        if plausible_date_digits(digits) and cue == "dob":
            return KIND_DATE
        return KIND_MRN
    return None


def _is_written_date(digits: str, lens: list[int]) -> bool:
    a, b = lens[0], lens[0] + lens[1]
    first, second, third = int(digits[:a]), int(digits[a:b]), digits[b:]
    if lens[0] == 4:
        return digits[:2] in ("19", "20") and 1 <= second <= 12 and 1 <= int(third or 0) <= 31
    year_ok = len(third) == 2 or (len(third) == 4 and third[:2] in ("19", "20"))
    return lens[0] <= 2 and lens[1] <= 2 and 1 <= first <= 12 and 1 <= second <= 31 and year_ok


def _maybe_address_or_age(
    run: Run,
    first: int,
    last: int,
    digits: str,
    text: str,
    lower: str,
    cue: str | None,
    out: list[Hit],
    street_clear: int,
) -> None:
    chunks = run.chunks[first:last]
    start, end = chunks[0].start, chunks[-1].end
    n = len(digits)
    # Street address: house number, up to three words, a street suffix.
    if n <= 6 and digits[0] != "0":
        m = street_after(lower, end, street_clear)
        if m is not None:
            out.append((start, m.end(), KIND_ADDRESS))
            return
    # ZIP after a state: "Springfield, IL 62704".
    if n in (5, 9) and STATE_BEFORE_RE.search(text[max(0, start - 24) : start]):
        out.append((start, end, KIND_ADDRESS))
        return
    # Age over 89, with "years old" after it or "age"/"turned" before it.
    if len(chunks) == 1 or (len(chunks) == 2 and chunks[0].digits in ("1",)):
        value = int(digits) if n <= 3 else 0
        before = lower[max(0, start - 24) : start]
        if 90 <= value <= 125 and (
            AGE_AFTER_RE.match(lower, end)
            or AGE_BEFORE_RE.search(before)
            or cue == "age"
            or (AGE_PERSON_BEFORE_RE.search(before) and AGE_PERSON_AFTER_RE.match(lower, end))
        ):
            out.append((start, end, KIND_AGE))


# --- written identifiers --------------------------------------------------------------------


_MRN_CUE_WORDS: Final = ("mrn", "med", "member", "subscriber", "policy", "patient id", "mbi")


def _find_written(lower: str, out: list[Hit], pos: int, endpos: int) -> None:
    # Written SSNs, numeric dates and letter-prefixed ids ("A1234567") are digit runs
    # (spoken.py, _classify_digits); only cue-labelled ids need their own pattern, and only
    # when a cue word occurs at all.
    cued = False
    for cue in _MRN_CUE_WORDS:
        if lower.find(cue, pos, endpos) != -1:
            cued = True
            break
    if cued:
        out.extend(
            (m.start("id"), m.end("id"), KIND_MRN)
            for m in MRN_WRITTEN_RE.finditer(lower, pos, endpos)
        )
    if lower.find("box", pos, endpos) != -1:
        out.extend(
            (m.start(), m.end(), KIND_ADDRESS) for m in PO_BOX_RE.finditer(lower, pos, endpos)
        )


def _find_emails(text: str, lower: str, out: list[Hit], start: int, endpos: int) -> None:
    # Written: grow outwards from each "@" with bounded patterns (never quadratic).
    pos = text.find("@", start, endpos)
    while pos != -1:
        left = EMAIL_LOCAL_RE.search(text, max(0, pos - 64), pos)
        right = EMAIL_DOMAIN_RE.match(text, pos + 1)
        if left is not None and right is not None:
            out.append((left.start(), right.end(), KIND_EMAIL))
        pos = text.find("@", pos + 1, endpos)
    # Spoken: "john dot smith at gmail dot com"; walk back over the local part's words.
    for m in SPOKEN_EMAIL_DOMAIN_RE.finditer(lower, start, endpos):
        local_start = _spoken_local_start(lower, m.start())
        if local_start is not None:
            out.append((local_start, m.end(), KIND_EMAIL))


_WORD_BACK_RE: Final = re.compile(r"[a-z0-9_'\-]+[\s,.]*$")  # what _word_back reads
_WORD_BACK_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_'-")


def _spoken_local_start(lower: str, at: int) -> int | None:
    """Start of the spoken local part ending at `at`: up to four words, any spelled letters."""
    start = None
    pos = at
    words = 0
    for _ in range(40):
        found = _word_back(lower, max(0, pos - 40), pos)
        if found < 0:
            break
        word = lower[found:pos].rstrip(" ,.\t\n")
        if word in EMAIL_LOCAL_STOP:
            break
        if (
            len(word) > 1
            and word not in ("dot", "underscore", "dash", "period")
            and not word.isdigit()
        ):
            words += 1
            if words > 4:
                break
        start = found
        pos = found
    return start


def _word_back(lower: str, lo: int, pos: int) -> int:
    """Where `_WORD_BACK_RE.search(lower, lo, pos)` would match, or -1, read backwards.

    The pattern is a run of word characters, then separators to the end; the two classes are
    disjoint, so the leftmost match starts where the word run before the trailing separators
    starts. A backward walk costs the word's length, the regex search the window's.
    """
    end = pos
    while end > lo and (lower[end - 1] in ",." or lower[end - 1].isspace()):
        end -= 1
    start = end
    while start > lo and lower[start - 1] in _WORD_BACK_CHARS:
        start -= 1
    return start if start < end else -1


def _find_spelled(
    lower: str, out: list[Hit], pos: int, endpos: int, marked: str, single: list[str]
) -> None:
    """Spelled names and ids; `marked` and the single letters present as in the gate."""
    for m in _spellings(lower, pos, endpos, marked, single):
        letters = sum(1 for ch in m.group() if ch.isalpha())
        said = m.group()
        # "i a" and "a b" are speech; three letters, or a phonetic hint, are spelling.
        if letters < 3 and " as in " not in said and " like " not in said:
            continue
        if _SPELLED_ABBREVIATION_RE.fullmatch(said):
            continue  # "d o b", "s s n": the caller spelled a label, not a name
        kind = KIND_MRN if _cue(lower, m.start()) == "mrn" else KIND_NAME
        out.append((m.start(), m.end(), kind))


def _spellings(
    lower: str, pos: int, endpos: int, marked: str, letters: list[str]
) -> list[re.Match[str]]:
    """What SPELLED_RE.finditer(lower, pos, endpos) finds, tried only at single letters.

    A spelling starts at a letter standing alone, which in the gate's `marked` window (every
    character but [a-z'] a blank or control character) sits between two blanks; the C
    scanner finds the same places (_scan.c, letters_alone). `letters`: the window's single
    letters (every letter standing alone is one).
    """
    starts: list[int] | None = None
    if _NATIVE is not None:
        starts = _SCAN_LETTERS_ALONE(lower, pos, endpos)
    if starts is None:
        if not marked:
            return list(SPELLED_RE.finditer(lower, pos, endpos))
        padded = " " + marked + " "
        starts = []
        for letter in letters:
            at = padded.find(" " + letter + " ")
            while at != -1:
                starts.append(pos + at)
                at = padded.find(" " + letter + " ", at + 2)
        starts.sort()
    found: list[re.Match[str]] = []
    free = pos
    for start in starts:
        if start >= free:
            m = SPELLED_RE.match(lower, start, endpos)
            if m is not None:
                found.append(m)
                free = m.end()
    return found


_SPELLED_ABBREVIATION_RE: Final = re.compile(r"(?:d\W+o\W+b|s\W+s\W+n|m\W+r\W+n|i\W+d)\W*")


# --- names ------------------------------------------------------------------------------------

_NAME_GAP_RE: Final = re.compile(r" {1,2}(?:[A-Z]\.? {1,2})?")


def _name_gap(text: str, end: int, start: int) -> bool:
    """_NAME_GAP_RE.fullmatch(text, end, start): at most six characters, so a longer gap (or
    none) needs no regex call."""
    return 1 <= start - end <= 6 and _NAME_GAP_RE.fullmatch(text, end, start) is not None


_LOOSE_NAME_RE: Final = re.compile(
    r"[\s,:]*(?:(?:is|uh|um|it's)[\s,]+)?([a-z][a-z'\-]*)(?:[ ]+(?:[a-z]\.?[ ]+)?([a-z][a-z'\-]*))?"
)


def _find_names(
    text: str,
    lower: str,
    out: list[Hit],
    pos: int,
    endpos: int,
    cue_words: list[str],
    caps: list[CapWord] | None = None,
) -> None:
    """Names in text[pos:endpos]. cue_words: the window's words that can be part of a cue;
    caps: its capitalised words (_cap_words), if the caller has them already."""
    firsts = _FIRST_NAMES
    lasts = _LAST_NAMES
    # One pass over the cue phrases serves all three name strategies.
    cued: set[int] = set()
    loose: set[int] = set()
    for cue in _cue_phrases(lower, pos, endpos, cue_words):
        end = cue.end()
        cued.add(end)
        phrase = cue.group(1)  # (the group "p": by number, without a look-up of its name)
        if phrase in LOOSE_CUE_SET:
            loose.add(end)
            _loose_name_after(lower, end, out)
        if phrase in WEAK_CUE_SET:
            _weak_name_after(lower, end, firsts, lasts, out)
    if caps is None:
        caps = _cap_words(text, lower, pos, endpos)
    n = len(caps)
    k = 0
    while k < n:
        start, end, word = caps[k]
        is_cued = start in cued
        # Fast path: most capitalised words (sentence starts) are neither cued nor names.
        if (
            not is_cued
            and word not in firsts
            and word not in lasts
            # ... unless a known surname follows it: "Oriana Okoro".
            and not (
                k + 1 < n
                and caps[k + 1][0] - end <= 4
                and word not in NAME_CUE_STOPWORDS
                and caps[k + 1][2] in lasts
                and _name_gap(text, end, caps[k + 1][0])
            )
        ):
            k += 1
            continue
        nxt = None
        if k + 1 < n and _name_gap(text, end, caps[k + 1][0]):
            nxt = caps[k + 1][2]
        if not _starts_name(word, nxt, is_cued, start in loose, firsts, lasts):
            k += 1
            continue
        end_k = k
        while end_k + 1 < n and end_k - k < 3:
            if not _name_gap(text, caps[end_k][1], caps[end_k + 1][0]):
                break
            follow = caps[end_k + 1][2]
            if follow in NOT_NAMES and follow not in lasts:
                break
            end_k += 1
        # "Pt: Hollis, Wendell": a cued surname, a comma, then the given name
        if (
            is_cued
            and end_k == k
            and k + 1 < n
            and caps[k + 1][2] not in NAME_CUE_STOPWORDS
            and text.startswith(", ", end)
            and caps[k + 1][0] == end + 2
        ):
            end_k = k + 1
        out.append((start, caps[end_k][1], KIND_NAME))
        k = end_k + 1


def _cap_words(text: str, lower: str, pos: int, endpos: int) -> list[CapWord]:
    """CAP_WORD_RE's matches in text[pos:endpos], read by the C scanner when it can."""
    if _NATIVE is not None and len(lower) == len(text):
        found = _SCAN_CAP_WORDS(text, lower, pos, endpos)
        if found is not None:
            return found  # type: ignore[no-any-return]
    return [
        (m.start(), m.end(), m.group().lower()) for m in CAP_WORD_RE.finditer(text, pos, endpos)
    ]


def _cue_phrases(lower: str, pos: int, endpos: int, cue_words: list[str]) -> list[re.Match[str]]:
    """What NAME_CUE_FINDER_RE.finditer(lower, pos, endpos) finds, tried only where a phrase
    can start: at a known distance before one of its trigger words (NAME_CUE_OFFSETS)."""
    starts: list[int] = []
    for word in cue_words:
        offsets = NAME_CUE_OFFSETS.get(word)
        if offsets is None:
            continue
        at = lower.find(word, pos, endpos)
        while at != -1:
            # Inside a word ("this" holds "hi") no phrase word starts.
            if at == 0 or lower[at - 1] not in _WORD_CHARS:
                for offset in offsets:
                    if at - offset >= pos:
                        starts.append(at - offset)
            at = lower.find(word, at + 1, endpos)
    starts.sort()
    found: list[re.Match[str]] = []
    free = pos
    tried = -1
    for start in starts:
        if start >= free and start != tried:
            tried = start
            m = NAME_CUE_FINDER_RE.match(lower, start, endpos)
            if m is not None:
                found.append(m)
                free = m.end()
    return found


_WORD_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _weak_name_after(
    lower: str, pos: int, firsts: frozenset[str], lasts: frozenset[str], out: list[Hit]
) -> None:
    """Lower-case text after a soft cue: a lexicon given name (and surname) is a name."""
    # The given name is _WEAK_FOLLOW_RE's first word, the run of [a-z'-] at pos (two or more,
    # a letter first). Most soft cues ("thank you", "okay") are followed by other words: the
    # lexicon says so before the regex runs.
    k = pos
    size = len(lower)
    while k < size and lower[k] in _WEAK_FIRST_CHARS:
        k += 1
    if k - pos < 2 or not ("a" <= lower[pos] <= "z"):
        return
    first = lower[pos:k]
    if first not in firsts or first in NAME_CUE_STOPWORDS or first in AMBIGUOUS_FIRST_NAMES:
        return
    m = _WEAK_FOLLOW_RE.match(lower, pos)
    if m is None:  # pragma: no cover - the run above is the regex's first word
        return
    last = m.group("last")
    end = m.end("last") if last is not None and last in lasts else m.end("first")
    out.append((m.start("first"), end, KIND_NAME))


def _starts_name(
    word: str,
    nxt: str | None,
    cued: bool,
    loose: bool,
    firsts: frozenset[str],
    lasts: frozenset[str],
) -> bool:
    """Does a name start at this capitalised word?"""
    if word in NOT_NAMES:
        # "this is Will Harris": a modal after a cue is a name when a surname follows it
        return (
            cued
            and (word in firsts or word in AMBIGUOUS_FIRST_NAMES)
            and (word not in NAME_CUE_STOPWORDS or nxt in lasts)
        )
    if word in firsts:
        return word not in AMBIGUOUS_FIRST_NAMES or cued or (nxt is not None and nxt in lasts)
    if cued and word not in NAME_CUE_STOPWORDS:
        return True
    if word in lasts:
        return loose
    return nxt is not None and nxt in lasts and word not in NAME_CUE_STOPWORDS


_WEAK_FIRST_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyz'-")
_WEAK_FOLLOW_RE: Final = re.compile(
    r"(?P<first>[a-z][a-z'\-]+)(?:[ ]+(?:[a-z][ ]+)?(?P<last>[a-z][a-z'\-]+))?"
)


def _loose_name_after(lower: str, pos: int, out: list[Hit]) -> None:
    m = _LOOSE_NAME_RE.match(lower, pos)
    if m is None:
        return
    end = None
    start = None
    for g in (1, 2):
        word = m.group(g)
        if word is None or word in NAME_CUE_STOPWORDS or len(word) < 2:
            break
        if start is None:
            start = m.start(g)
        end = m.end(g)
    if start is not None and end is not None:
        out.append((start, end, KIND_NAME))


# --- merging --------------------------------------------------------------------------------

_JOIN_GAP_RE: Final = re.compile(r"[ ,\-]{0,2}")
_ADDRESS_JOIN_RE: Final = re.compile(
    r"[ ,.]+[A-Za-z][A-Za-z .'\-]{0,30}?[ ,]+(?:[A-Za-z .]{2,20}[ ,]+)?"
)


def merge_spans(spans: "Sequence[Hit]", text: str) -> list[Span]:
    """Sort and merge overlapping spans (and touching ones of one kind) into disjoint spans."""
    if not spans:
        return []
    if len(spans) == 1:
        one = spans[0]
        return [_new_span(Span, (one[0], one[1], one[2]))] if one[1] > one[0] else []
    # Plain (start, end, kind) tuples until the end: a Span is built once per merged span.
    merged: list[Hit] = []
    for start, end, kind in sorted(spans):
        if end <= start:
            continue  # empty
        if merged:
            prev_start, prev_end, prev_kind = merged[-1]
            # (the join gap is at most two characters: a longer one needs no regex call)
            touching = (
                start >= prev_end
                and start - prev_end <= 2
                and kind == prev_kind
                and _JOIN_GAP_RE.fullmatch(text, prev_end, start) is not None
            )
            address_tail = (
                prev_kind == KIND_ADDRESS
                and kind == KIND_ADDRESS
                and start - prev_end <= 48
                and _ADDRESS_JOIN_RE.fullmatch(text, prev_end, start) is not None
            )
            if start < prev_end or touching or address_tail:
                # the more specific kind wins; on a tie the earlier span's
                if _priority(kind) < _priority(prev_kind):
                    prev_kind = kind
                merged[-1] = (prev_start, max(prev_end, end), prev_kind)
                continue
        merged.append((start, end, kind))
    if _SCAN_AS_INSTANCES is not None:
        return _SCAN_AS_INSTANCES(Span, merged)  # type: ignore[no-any-return]
    return [_new_span(Span, hit) for hit in merged]


# Span(start, end, kind) runs the NamedTuple's __new__, Python code; tuple.__new__ builds the
# same Span in C.
_new_span: Final = tuple.__new__

# The kinds, most specific first (KIND_PRIORITY's order), and their priorities.
_KINDS_BY_PRIORITY: Final = tuple(sorted(KIND_PRIORITY, key=KIND_PRIORITY.__getitem__))
_PRIORITIES: Final = tuple(KIND_PRIORITY[k] for k in _KINDS_BY_PRIORITY)


def _priority(kind: Kind) -> int:
    """KIND_PRIORITY[kind], found by identity: hashing an Enum member runs Python code."""
    for i in range(len(_KINDS_BY_PRIORITY)):
        if _KINDS_BY_PRIORITY[i] is kind:
            return _PRIORITIES[i]
    return KIND_PRIORITY[kind]  # a kind equal to a member but not one (a backend's str)
