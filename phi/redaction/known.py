"""The caller's own known values, expanded into every form they can be written or said.

Given {"name": ("Jane Doe",), "date_of_birth": ("1980-03-03",), "phone": ("+15550123456",)},
the matcher masks "Jane", "DOE", "03/03/1980", "3/3/80", "three three eighty" (by digits),
"five five five, oh one two, three four five six", an MRN said digit by digit, and so on.
Literal forms are one case-insensitive alternation; spoken numbers are compared as the digit
strings `spoken.py` already read, so no spoken form has to be enumerated.

Invariant: matchers are cached by value and never logged; masking is exact (whole words).
"""

import datetime as dt
import re
from functools import lru_cache

from .patterns import Kind
from .spoken import Run

_KIND_FOR_KEY = {
    "name": Kind.NAME,
    "date_of_birth": Kind.DATE,
    "phone": Kind.PHONE,
    "mrn": Kind.MRN,
    "email": Kind.EMAIL,
    "address": Kind.ADDRESS,
    "ssn": Kind.SSN,
}
_MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


class KnownMatcher:
    """Finds one scope's known values in text, written or spoken."""

    def __init__(self, values: dict[str, tuple[str, ...]]) -> None:
        literals: dict[str, Kind] = {}
        digit_forms: dict[str, Kind] = {}
        for key, items in values.items():
            kind = _KIND_FOR_KEY[key]
            for item in items:
                for form in _literal_forms(key, item):
                    literals.setdefault(form.lower(), kind)
                for form in _digit_forms(key, item):
                    digit_forms.setdefault(form, kind)
        self._literal_kind = literals
        self._digit_forms = digit_forms
        self._literal_re = (
            re.compile(
                r"(?<![a-z0-9])(?:"
                + "|".join(re.escape(f) for f in sorted(literals, key=len, reverse=True))
                + r")(?![a-z0-9])"
            )
            if literals
            else None
        )

    def find(self, text: str, lower: str, runs: list[Run]) -> list[tuple[int, int, Kind]]:
        """Spans (start, end, kind) of known values in text."""
        found: list[tuple[int, int, Kind]] = []
        if self._literal_re is not None:
            found.extend(
                (m.start(), m.end(), self._literal_kind[m.group()])
                for m in self._literal_re.finditer(lower)
            )
        if self._digit_forms:
            for run in runs:
                digits = run.digits()
                kind = self._digit_forms.get(digits)
                if kind is not None and (len(digits) >= 5 or len(run.chunks) >= 3):
                    found.append((run.start, run.end, kind))
                    continue
                for form, form_kind in self._digit_forms.items():
                    if len(form) >= 7 and form in digits:
                        found.append((run.start, run.end, form_kind))
                        break
        return found


def _literal_forms(key: str, value: str) -> list[str]:
    if key == "name":
        parts = [p for p in re.split(r"[^A-Za-z']+", value) if len(p) >= 2]
        return [value, *parts]
    if key == "date_of_birth":
        return _date_literals(value)
    if key in ("email", "address", "mrn"):
        forms = [value]
        if key == "email" and "@" in value:
            local, _, domain = value.partition("@")
            spoken = " at ".join((local.replace(".", " dot "), domain.replace(".", " dot ")))
            forms.append(spoken)
        return forms
    return []


def _date_literals(value: str) -> list[str]:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return [value]
    month = _MONTH_NAMES[day.month - 1]
    return [
        value,
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month}/{day.day}/{day.year}",
        f"{day.month}/{day.day}/{day.year % 100:02d}",
        f"{day.month:02d}-{day.day:02d}-{day.year}",
        f"{month} {day.day}, {day.year}",
        f"{month} {day.day} {day.year}",
        f"{day.day} {month} {day.year}",
    ]


def _digit_forms(key: str, value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)
    if key == "phone" and len(digits) >= 7:
        national = digits[-10:]
        return [national, "1" + national, national[-7:]]
    if key in ("mrn", "ssn") and len(digits) >= 4:
        return [digits]
    if key == "date_of_birth":
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return []
        y4, y2 = str(day.year), f"{day.year % 100:02d}"
        m, d = str(day.month), str(day.day)
        mm, dd = f"{day.month:02d}", f"{day.day:02d}"
        return sorted({a + b + c for a in (m, mm) for b in (d, dd) for c in (y4, y2)})
    return []


@lru_cache(maxsize=256)
def _cached(frozen: tuple[tuple[str, tuple[str, ...]], ...]) -> KnownMatcher:
    return KnownMatcher(dict(frozen))


def known_matcher(values: dict[str, tuple[str, ...]]) -> KnownMatcher:
    """The (cached) matcher for a scope's known values."""
    return _cached(tuple(sorted(values.items())))
