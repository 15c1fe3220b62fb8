"""Assertions about PHI that never print the PHI they look for (test output is a log too)."""

import re

# Fake PHI used across the redaction tests (names from the synthetic list, 555-01xx, 9xx SSN).
PATIENT = {
    "name": "Zephyrine Thornquist",
    "date_of_birth": "1980-03-03",
    "phone": "+13125550147",
    "mrn": "A7654321",
}
RAW_FORMS = [
    "Zephyrine",
    "Thornquist",
    "3125550147",
    "312-555-0147",
    "five five five, oh one four seven",
    "five five five oh one four seven",
    "march third nineteen eighty",
    "03/03/1980",
    "A7654321",
    "912-34-5678",
    "jane.doe@example.com",
]


def _normal(text: str) -> str:
    return re.sub(r"[\s,]+", " ", text.lower())


def assert_no_phi(text: str, forms: list[str] | None = None) -> None:
    """Fail, without echoing text, if any raw PHI form occurs in it."""
    __tracebackhide__ = True  # pytest would print the text argument otherwise
    haystack = _normal(text)
    for index, form in enumerate(forms or RAW_FORMS):
        if _normal(form) in haystack:
            raise AssertionError(f"PHI form #{index} leaked (value withheld)")
