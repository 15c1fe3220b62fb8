"""Validators for clinic data: phone numbers (E.164), time zones, opening hours, dates of birth.

Invariant: a phone number that passes `normalize_e164` is stored in E.164 form only, so the
blind index and the inbound-call routing compare like with like.
"""

import datetime as dt
import itertools
import re
import zoneinfo

from django.core.exceptions import ValidationError

from clinic import errors
from phi.crypto.normalize import normalize_phone

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_MAX_AGE_DAYS = 130 * 366


def normalize_e164(value: str, *, field: str | None = None) -> str:
    """Return the number in E.164 form, or raise ValidationError with the phone message."""
    try:
        return normalize_phone(value)
    except (ValueError, TypeError):
        message = errors.PHONE_INVALID
        raise ValidationError({field: message} if field else message, code="phone") from None


def validate_e164(value: str) -> None:
    """Field validator: the value is already a normalised E.164 number."""
    if normalize_e164(value) != value:
        raise ValidationError(errors.PHONE_INVALID, code="phone")


def validate_timezone(value: str) -> None:
    """Field validator: an IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            errors.TIMEZONE_INVALID.format(value=value), code="timezone"
        ) from None


def validate_date_of_birth(value: dt.date, *, today: dt.date) -> None:
    """A date of birth is not in the future and not implausibly old."""
    if value > today:
        raise ValidationError(errors.DOB_IN_FUTURE, code="dob_future")
    if (today - value).days > _MAX_AGE_DAYS:
        raise ValidationError(errors.DOB_TOO_OLD, code="dob_old")


def parse_opening_hours(value: object) -> dict[str, list[tuple[dt.time, dt.time]]]:
    """Parse {"mon": [["08:00", "17:00"], ...], ...} into times; raise ValidationError if malformed."""

    def fail(problem: str) -> ValidationError:
        return ValidationError(
            errors.OPENING_HOURS_INVALID.format(problem=problem), code="opening_hours"
        )

    if not isinstance(value, dict):
        raise fail("expected an object keyed by weekday")
    parsed: dict[str, list[tuple[dt.time, dt.time]]] = {}
    for day, intervals in value.items():
        if day not in WEEKDAYS:
            raise fail(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
        if not isinstance(intervals, list):
            raise fail(f"{day}: expected a list of [open, close] pairs")
        times: list[tuple[dt.time, dt.time]] = []
        for interval in intervals:
            if (
                not isinstance(interval, list | tuple)
                or len(interval) != 2
                or not all(isinstance(t, str) and _HHMM.match(t) for t in interval)
            ):
                raise fail(f"{day}: {interval!r} is not a pair of HH:MM times")
            start, end = (dt.time.fromisoformat(t) for t in interval)
            if end <= start:
                raise fail(f"{day}: {interval[0]}-{interval[1]} closes before it opens")
            times.append((start, end))
        times.sort()
        for (_, prev_end), (next_start, _) in itertools.pairwise(times):
            if next_start < prev_end:
                raise fail(f"{day}: intervals overlap")
        parsed[day] = times
    return parsed


def validate_opening_hours(value: object) -> None:
    """Field validator for Practice.opening_hours."""
    parse_opening_hours(value)
