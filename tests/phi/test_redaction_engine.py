"""The engine on written and spoken PHI, ordinary speech that only looks numeric, known values."""

import datetime as dt

import pytest

from phi.redaction import Kind, redact
from phi.redaction.context import add_known, redaction_scope


def kinds(text: str, **kwargs: object) -> list[str]:
    return [span.kind.value for span in redact(text, **kwargs).spans]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my date of birth is march third nineteen eighty", "my date of birth is [DATE]"),
        ("five five five, oh one two, three four five six", "[PHONE]"),
        ("S as in Sam, M I T H", "[NAME]"),
        ("john dot smith at example dot com", "[EMAIL]"),
        ("Call me at (312) 555-0147.", "Call me at [PHONE]."),
        ("my cell is 312.555.0147", "my cell is [PHONE]"),
        ("it's five fifty-five, oh one two, thirty four fifty six", "it's [PHONE]"),
        ("My social is 912-34-5678.", "My social is [SSN]."),
        (
            "the last four of my social are four five six seven",
            "the last four of my social are [SSN]",
        ),
        ("Patient DOB 03/15/1980, MRN 00412345.", "Patient DOB [DATE], MRN [MRN]."),
        ("my member id is x j h one two three four five six", "my member id is [MRN]"),
        ("Email jane.doe@example.com today", "Email [EMAIL] today"),
        ("I live at one twenty three Maple Street.", "I live at [ADDRESS]."),
        ("the zip code is nine oh two one oh", "the zip code is [ADDRESS]"),
        ("My mother is ninety two years old.", "My mother is [AGE] years old."),
        ("95-year-old male with CHF", "[AGE]-year-old male with CHF"),
        ("date of birth three fifteen eighty", "date of birth [DATE]"),
        ("I was born the fifth of July, nineteen eighty-two.", "I was born the [DATE]."),
        ("Hi, this is Sarah Johnson.", "Hi, this is [NAME]."),
        ("my name is maria garcia", "my name is [NAME]"),
        ("three one two. five five five. zero one three four.", "[PHONE]."),
        ("born in March of 1980", "born in [DATE]"),
        ("He turned 100 last week.", "He turned [AGE] last week."),
        ("this is Will Harris", "this is [NAME]"),
        ("it's jsmith at example.com", "it's [EMAIL]"),
        ("Medicare number 1EG4-TE5-MK73", "Medicare number [MRN]"),
        ("Send it to PO Box 4412.", "Send it to [ADDRESS]."),
        ("That's right, it's Chen, C-H-E-N", "That's right, it's [NAME]"),
        ("My number is (212) 555-0100 extension 4.", "My number is [PHONE] extension 4."),
        ("her birthday is on the fourth of July", "her birthday is on the [DATE]"),
        ("Insurance ID number is XDP 442 918 337.", "Insurance ID number is [MRN]."),
        ("My grandmother is 94 and she fell.", "My grandmother is [AGE] and she fell."),
    ],
)
def test_redact_masks_written_and_spoken_phi(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Can I come in at three fifteen tomorrow?",
        "I take 500 milligrams twice a day.",
        "For appointments press 1, for billing press 2.",
        "Please go to room 412 on the fourth floor.",
        "I have three kids and two of them are sick.",
        "My blood pressure was one twenty over eighty.",
        "The bill says $1,250,000.00 which is wrong.",
        "I'm forty five years old.",
        "May I ask what this is regarding?",
        "Will you be using insurance today?",
        "extension two oh four, or just press one",
        "Temperature ninety eight point six, pulse seventy two.",
        "BP 128/82, HR 76, take 1 tablet daily for 30 days.",
        "I've been on it since 2019.",
        "Are you still open on the 4th of July?",
        "May I put you on hold? The doctor said to come back in May.",
        "Is 3 pm okay, or do you prefer 3:30?",
        "Room 2114 is down the hall, dial 1 for appointments.",
        "Take 1/2 tablet at night; we are open 24/7.",
        "My insurance is Blue Cross Blue Shield.",
    ],
)
def test_redact_leaves_ordinary_numbers_and_words_alone(text: str) -> None:
    assert redact(text).spans == []


def test_spans_index_the_input_and_mask_is_typed() -> None:
    text = "Jane called from 312-555-0147 on March 3rd."
    result = redact(text)
    assert [(text[s.start : s.end], s.kind) for s in result.spans] == [
        ("Jane", Kind.NAME),
        ("312-555-0147", Kind.PHONE),
        ("March 3rd", Kind.DATE),
    ]
    assert result.text == "[NAME] called from [PHONE] on [DATE]."


def test_known_values_are_masked_in_every_spoken_form() -> None:
    known = {
        "name": "Quillon Brevik",
        "date_of_birth": dt.date(1980, 3, 3),
        "phone": "+13125550147",
    }
    text = (
        "yes it's quillon, born three three eighty, you can call three one two "
        "five five five oh one four seven, BREVIK is my last name"
    )
    result = redact(text, known=known)
    assert "quillon" not in result.text.lower()
    assert "brevik" not in result.text.lower()
    assert "three three eighty" not in result.text
    assert "oh one four seven" not in result.text
    assert kinds(text, known=known) == ["NAME", "DATE", "PHONE", "NAME"]


def test_context_known_values_apply_to_every_redaction_in_the_scope() -> None:
    with redaction_scope():
        add_known(name="Zephyrine Thornquist", mrn="A7654321")
        masked = redact("Zephyrine asked about record A7654321").text
    assert masked == "[NAME] asked about record [MRN]"
    # outside the scope the lexicon does not know this invented name
    assert redact("Zephyrine asked").text == "Zephyrine asked"


def test_known_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="unknown known-value key"):
        redact("text", known={"favourite_colour": "blue"})


def test_overlapping_detections_merge_into_the_most_specific_kind() -> None:
    result = redact("reach me at j o h n dot doe at example dot com")
    assert result.text == "reach me at [EMAIL]"


def test_empty_text_has_no_spans() -> None:
    assert redact("") == ("", [])


def test_long_transcript_is_redacted_line_by_line_with_cues_from_the_line_before() -> None:
    filler = "Agent: One moment while I check the schedule for you.\n" * 12
    text = filler + "Agent: And can you confirm your date of birth?\nCaller: three fifteen eighty"
    result = redact(text)
    assert len(text) > 512  # long enough for the per-line path
    assert result.text.endswith("Caller: [DATE]")
    assert [s.kind for s in result.spans] == [Kind.DATE]
