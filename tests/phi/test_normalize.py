"""Normalisation before blind indexing: equal facts index equally, garbage is refused."""

import datetime

import pytest

from phi.crypto.normalize import identity_value, normalize_mrn, normalize_name, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("O'Brien", "obrien"), ("o brien", "obrien"), ("ZOË", "zoe"), ("Smith-Jones", "smithjones")],
)
def test_names_normalise_case_accents_and_punctuation(raw, expected):
    assert normalize_name(raw) == expected


@pytest.mark.parametrize(
    "raw", ["(555) 555-0123", "555.555.0123", "+1 555 555 0123", "1-555-555-0123"]
)
def test_us_phone_forms_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+15555550123"


@pytest.mark.parametrize("raw", ["", "call me", "12", "555-CALL-NOW", "+1 555 555 0123 4567 89"])
def test_garbage_phone_numbers_are_refused_with_the_rule(raw):
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(raw)


def test_mrn_keeps_letters_and_digits_upper_case():
    assert normalize_mrn(" mrn-00 12 ") == "MRN0012"


def test_identity_value_joins_name_and_iso_date():
    assert identity_value(last_name="O'Brien", date_of_birth=datetime.date(1980, 3, 3)) == (
        "obrien|1980-03-03"
    )
