"""Dates as callers say them: ISO and common written forms, exact or refused."""

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phi.redaction.corpus import say_ordinal, say_year
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


@given(DATES)
def test_spoken_dates_parse_as_said(day):
    # Spoken as the synthetic corpus speaks them (its own speller, not the parser's tables).
    month = day.strftime("%B")
    rng = random.Random(day.toordinal())
    year = say_year(day.year, rng)
    for text in (
        f"{month} {say_ordinal(day.day)} {year}",
        f"the {say_ordinal(day.day)} of {month}, {year}",
        f"{month} the {say_ordinal(day.day)} {day.year}",
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
