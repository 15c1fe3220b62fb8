"""Dates as callers say them: ISO and common written forms, exact or refused."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.dates import parse_caller_date

DATES = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@given(DATES)
def test_iso_round_trips(day):
    assert parse_caller_date(day.isoformat()) == day


@given(DATES)
def test_us_numeric_and_spelled_forms_parse_to_the_same_day(day):
    forms = (
        f"{day.month:02d}/{day.day:02d}/{day.year}",
        f"{day.month}/{day.day}/{day.year}",
        day.strftime("%B ") + f"{day.day}, {day.year}",
        f"{day.day} " + day.strftime("%b %Y"),
        f"the {day.day}th of " + day.strftime("%B %Y"),
    )
    for text in forms:
        assert parse_caller_date(text) == day, text


@given(st.text(max_size=80))
def test_arbitrary_text_is_parsed_or_refused_never_crashes(text):
    try:
        result = parse_caller_date(text)
    except ValueError:
        return
    assert isinstance(result, dt.date)


@pytest.mark.parametrize(
    "text", ["03/03/80", "1980-02-30", "13/01/1980", "March 1980", "yesterday", "", "1980-03-03x"]
)
def test_ambiguous_or_impossible_dates_are_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_caller_date(text)


_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
_TEENS = [
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINAL_UNITS = [
    "_",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
]
_ORDINAL_TEENS = [
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]


def _say(n: int) -> str:
    if n < 10:
        return _UNITS[n]
    if n < 20:
        return _TEENS[n - 10]
    return _TENS[n // 10] + ("" if n % 10 == 0 else "-" + _UNITS[n % 10])


def _say_ordinal(n: int) -> str:
    if n < 10:
        return _ORDINAL_UNITS[n]
    if n < 20:
        return _ORDINAL_TEENS[n - 10]
    if n % 10 == 0:
        return {20: "twentieth", 30: "thirtieth"}[n]
    return _TENS[n // 10] + " " + _ORDINAL_UNITS[n % 10]


def _say_year(year: int) -> str:
    if 2000 <= year < 2010:
        return "two thousand" + ("" if year == 2000 else " and " + _say(year % 100))
    century, rest = divmod(year, 100)
    if rest == 0:
        return _say(century) + " hundred"
    if rest < 10:
        return f"{_say(century)} oh {_say(rest)}"
    return f"{_say(century)} {_say(rest)}"


@given(DATES)
def test_spoken_dates_parse_as_said(day):
    month = day.strftime("%B")
    for text in (
        f"{month} {_say_ordinal(day.day)} {_say_year(day.year)}",
        f"the {_say_ordinal(day.day)} of {month}, {_say_year(day.year)}",
        f"{month} the {_say_ordinal(day.day)} {day.year}",
    ):
        assert parse_caller_date(text) == day, text


@pytest.mark.parametrize(
    "text",
    [
        "march thirty second 1980",
        "march third nineteen",
        "february thirtieth nineteen eighty",
        "march april third 1980",
    ],
)
def test_impossible_spoken_dates_are_refused(text):
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_caller_date(text)
