"""Dates as callers (and the model) pass them: ISO first, then the common written forms.

Invariant: a date is either parsed exactly or refused with ValueError; nothing is guessed.
Numeric day/month order is the US one (MM/DD/YYYY), the practices' convention; a two-digit
year is refused because "03/03/80" could be 1880, 1980 or 2080 for a date of birth.
"""

import re
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
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
    raise ValueError("not a valid date; pass it as YYYY-MM-DD with a four-digit year")
