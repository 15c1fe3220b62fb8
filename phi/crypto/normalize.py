"""Normalisation of values before blind indexing, so equal facts index equally.

"O'Brien", "o brien" and "OBRIEN" index the same; "(555) 555-0123" and "+15555550123" too.
"""

import unicodedata
from datetime import date

import phonenumbers
from django.conf import settings


def normalize_name(value: str) -> str:
    """Case-folded letters only, accents stripped: 'Zoë O'Brien-Lee' -> 'zoeobrienlee'."""
    decomposed = unicodedata.normalize("NFKD", value).casefold()
    return "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))


def normalize_phone(value: str, *, region: str | None = None) -> str:
    """The E.164 form of a phone number; ValueError with the rule if it is not one."""
    text = (value or "").strip()
    if not text or any(ch.isalpha() for ch in text.replace("ext", "")):
        raise ValueError("Enter a phone number with digits only, e.g. +1 555 555 0123.")
    try:
        parsed = phonenumbers.parse(text, region or settings.PHI_DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValueError("Enter a valid phone number, e.g. +1 555 555 0123.") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("Enter a valid phone number, e.g. +1 555 555 0123.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_mrn(value: str) -> str:
    """Upper-case letters and digits only: 'mrn-00 12' -> 'MRN0012'."""
    return "".join(ch for ch in value.upper() if ch.isalnum())


def identity_value(*, last_name: str, date_of_birth: date) -> str:
    """The indexed form of last name + date of birth, the caller-identity key."""
    return f"{normalize_name(last_name)}|{date_of_birth.isoformat()}"
