"""Dates as callers (and the model) pass them: ISO first, then the common written and spoken
forms ("03/03/1980", "March 3rd, 1980", "March third nineteen eighty", "the third of March
two thousand five").

Invariant: a date is either parsed exactly or refused with ValueError; nothing is guessed.
Numeric day/month order is the US one (MM/DD/YYYY), the practices' convention; a two-digit
year is refused because "03/03/80" could be 1880, 1980 or 2080 for a date of birth.
"""

import re
from datetime import date

from phi.redaction.patterns import MONTHS, ORDINALS, TEENS, TENS, UNITS

# The spoken vocabulary is the redaction engine's: one table of month and number words.
_MONTHS = MONTHS
_MONTH = "(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = (
    re.compile(rf"^{_YEAR}[-/.](?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}})$"),
    re.compile(rf"^(?P<month>\d{{1,2}})[-/.](?P<day>\d{{1,2}})[-/.]{_YEAR}$"),
    re.compile(rf"^{_MONTH}\s+{_DAY},?\s+{_YEAR}$"),
    re.compile(rf"^(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}$"),
)
MAX_DATE_TEXT = 64


def parse_caller_date(text: str) -> date:
    """The date in `text` (ISO, MM/DD/YYYY, "March 3, 1980", "3rd of March 1980"); else ValueError."""
    if not isinstance(text, str) or len(text) > MAX_DATE_TEXT:
        raise ValueError("a date must be a short text such as 1980-03-03")
    cleaned = " ".join(text.strip().lower().split())
    for pattern in _PATTERNS:
        match = pattern.match(cleaned)
        if match is None:
            continue
        month = match["month"]
        month_number = int(month) if month.isdigit() else _MONTHS[month]
        try:
            return date(int(match["year"]), month_number, int(match["day"]))
        except ValueError:
            break
    spoken = _parse_spoken(cleaned.replace("-", " ").replace(",", " ").split())
    if spoken is not None:
        return spoken
    raise ValueError("not a valid date; pass it as YYYY-MM-DD with a four-digit year")


# --- spoken numbers ("third", "twenty first", "nineteen eighty", "two thousand and five") ----
_TENS = TENS
_CARDINALS = {word: n for word, n in UNITS.items() if word not in ("o",)} | TEENS
_ORDINALS = ORDINALS
_ORDINAL_DIGITS = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?$")
MAX_SPOKEN_TOKENS = 12


def _below_100(tokens: list[str], *, ordinal: bool = False) -> int | None:
    """0-99 from one or two words ("seven", "forty two"; ordinals when asked: "twenty first")."""
    last = _ORDINALS if ordinal else _CARDINALS
    if len(tokens) == 1:
        word = tokens[0]
        if word in last:
            return last[word]
        if not ordinal and word in _TENS:
            return _TENS[word]
        match = _ORDINAL_DIGITS.match(word) if ordinal else None
        return int(match[1]) if match else None
    if len(tokens) == 2 and tokens[0] in _TENS:
        unit = last.get(tokens[1])
        return _TENS[tokens[0]] + unit if unit is not None and 0 < unit < 10 else None
    return None


def _year(tokens: list[str]) -> int | None:
    """A four-digit year from digits or words ("nineteen eighty", "two thousand and five")."""
    tokens = [t for t in tokens if t != "and"]
    if len(tokens) == 1 and re.fullmatch(r"\d{4}", tokens[0]):
        return int(tokens[0])
    if tokens[:2] == ["two", "thousand"]:
        rest = tokens[2:]
        if not rest:
            return 2000
        small = _below_100(rest)
        return 2000 + small if small is not None else None
    # Read in pairs: "nineteen | eighty three", "nineteen | oh five", "twenty | twelve".
    for split in (1, 2):
        century = _below_100(tokens[:split])
        rest = tokens[split:]
        if century is None or not 10 <= century <= 29 or not rest:
            continue
        if rest == ["hundred"]:
            return century * 100
        if rest[0] in ("oh", "o") and len(rest) == 2:
            unit = _CARDINALS.get(rest[1])
            if unit is not None and unit < 10:
                return century * 100 + unit
            continue
        small = _below_100(rest)
        if small is not None and small >= 10:
            return century * 100 + small
    return None


def _parse_spoken(tokens: list[str]) -> date | None:
    """A date from words: "<month> [the] <day> [of] <year>" or "[the] <day> [of] <month> <year>"."""
    if not tokens or len(tokens) > MAX_SPOKEN_TOKENS:
        return None
    if tokens[0] == "the":
        tokens = tokens[1:]
    months = [i for i, t in enumerate(tokens) if t.rstrip(".") in _MONTHS]
    if len(months) != 1:
        return None
    at = months[0]
    month = _MONTHS[tokens[at].rstrip(".")]
    if at == 0:  # month first: March [the] third [of] nineteen eighty
        rest = tokens[1:]
        if rest[:1] == ["the"]:
            rest = rest[1:]
        candidates = [(rest[:k], rest[k:]) for k in (1, 2)]
    else:  # day first: [the] third [of] March nineteen eighty
        day_tokens = tokens[:at]
        if day_tokens[-1:] == ["of"]:
            day_tokens = day_tokens[:-1]
        candidates = [(day_tokens, tokens[at + 1 :])]
    for day_words, year_words in candidates:
        if year_words[:1] == ["of"]:
            year_words = year_words[1:]
        day_number = _below_100(day_words, ordinal=True)
        if day_number is None:
            day_number = _below_100(day_words)
        year = _year(year_words)
        if day_number is None or year is None:
            continue
        try:
            return date(year, month, day_number)
        except ValueError:
            return None
    return None
