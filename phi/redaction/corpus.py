"""A synthetic, clearly fake PHI corpus with gold spans, generated deterministically from a seed.

Phone-call transcripts (as speech recognition writes them: spoken digits, "oh" for zero,
spelled names, spoken e-mail addresses, lower-case or capitalised) and clinical-note lines,
plus many negative sentences that only look numeric (times, doses, menu choices, rooms,
counts, prices, vitals). Every value is fake: phone numbers are 555-01xx (reserved for
fiction), SSNs start with 9 (never issued), e-mail domains are example.com/org/net, names
come from the synthetic lists below (a quarter of them are outside the engine's lexicon on
purpose, so name recall does not just measure the lexicon).

Invariant: same seed, same corpus; gold spans index the example's own text exactly.
"""

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from .patterns import Kind

FIRST_NAMES = [
    "Jane",
    "John",
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Susan",
    "Carlos",
    "Aisha",
    "Wei",
    "Priya",
    "Daniel",
    "Emily",
    "Kevin",
    "Rosa",
    "Thomas",
    "Angela",
    "Marcus",
    "Hannah",
    "Omar",
    "Grace",
    "Samuel",
    "Nora",
    "Oriana",
    "Thaddeus",
    "Kestrel",
    "Marisela",
    "Quillon",
    "Zephyrine",
    "Bexley",
    "Odalys",
    "Tamsin",
    "Everett",
    "Lucinda",
]
LAST_NAMES = [
    "Doe",
    "Smith",
    "Garcia",
    "Johnson",
    "Nguyen",
    "Patel",
    "Williams",
    "Brown",
    "Miller",
    "Davis",
    "Martinez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Harris",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Brevik",
    "Okoro",
    "Quintanar",
    "Vasquell",
    "Thornquist",
    "Delacroix",
    "Marchetti",
    "Halloran",
    "Pennywhistle",
]
STREETS = [
    "Maple",
    "Oak",
    "Cedar",
    "Larkspur",
    "Willow",
    "Quarry",
    "Hill",
    "Birchwood",
    "Elm",
    "Juniper",
    "Sycamore",
    "Harbor",
]
SUFFIXES = [
    "Street",
    "Avenue",
    "Road",
    "Lane",
    "Drive",
    "Court",
    "Boulevard",
    "Way",
    "Place",
    "Terrace",
]
SPOKEN_SUFFIX_ABBR = {"Street": "St", "Avenue": "Ave", "Road": "Rd", "Lane": "Ln", "Drive": "Dr"}
CITIES = [
    "Springfield",
    "Fairview",
    "Riverton",
    "Lakemont",
    "Brookhaven",
    "Millbrook",
    "Cedar",
    "Falls",
]
STATES = ["IL", "OH", "CA", "TX", "NY", "WA", "GA", "PA"]
MONTH_NAMES = [
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
UNIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEEN_WORDS = [
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
TENS_WORDS = [
    "_",
    "_",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
]
ORDINAL_WORDS = [
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
    "twentieth",
]


@dataclass
class Example:
    """One utterance or note line and its gold PHI spans (start, end, kind)."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    source: str = "call"


# --- spoken forms ---------------------------------------------------------------------------


def say_number(n: int) -> str:
    """0..999 in words, as people say them ("one twenty three" style is say_house)."""
    if n < 10:
        return UNIT_WORDS[n]
    if n < 20:
        return TEEN_WORDS[n - 10]
    if n < 100:
        tens, unit = divmod(n, 10)
        return TENS_WORDS[tens] + (("-" if unit else "") + UNIT_WORDS[unit] if unit else "")
    hundreds, rest = divmod(n, 100)
    return UNIT_WORDS[hundreds] + " hundred" + (" " + say_number(rest) if rest else "")


def say_ordinal(n: int) -> str:
    """1..31 as an ordinal word ("twenty-third")."""
    if n <= 20:
        return ORDINAL_WORDS[n]
    if n == 30:
        return "thirtieth"
    tens, unit = divmod(n, 10)
    return TENS_WORDS[tens] + "-" + ORDINAL_WORDS[unit]


def say_digits(digits: str, rng: random.Random) -> str:
    """Digit by digit, "oh" or "zero" for 0."""
    zero = rng.choice(["oh", "oh", "zero"])
    return " ".join(zero if d == "0" else UNIT_WORDS[int(d)] for d in digits)


def say_year(year: int, rng: random.Random) -> str:
    """1980 -> "nineteen eighty"; 2005 -> "two thousand five" or "twenty oh five"."""
    hi, lo = divmod(year, 100)
    if lo == 0 and year != 2000:
        return (
            say_number(hi) + " hundred"
        )  # 1900 -> "nineteen hundred", 2100 -> "twenty-one hundred"
    if 2000 <= year < 2100 and (lo < 10 or rng.random() < 0.5):
        if lo == 0:
            return "two thousand"
        return (
            rng.choice(["two thousand " + say_number(lo), "two thousand and " + say_number(lo)])
            if lo < 10 or rng.random() < 0.5
            else "twenty " + say_number(lo)
        )
    lo_words = ("oh " + UNIT_WORDS[lo]) if lo < 10 else say_number(lo)
    return say_number(hi) + " " + lo_words


def say_house(n: int) -> str:
    """House numbers as said: 123 -> "one twenty three", 1405 -> "fourteen oh five"."""
    if n < 100:
        return say_number(n)
    hi, lo = divmod(n, 100)
    lo_words = (
        ("oh " + UNIT_WORDS[lo]) if 0 < lo < 10 else ("hundred" if lo == 0 else say_number(lo))
    )
    return say_number(hi) + " " + lo_words


# --- fake values ----------------------------------------------------------------------------


class Fake:
    """Random fake PHI values and their written and spoken surface forms."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def first(self) -> str:
        """A synthetic given name."""
        return self.rng.choice(FIRST_NAMES)

    def last(self) -> str:
        """A synthetic surname."""
        return self.rng.choice(LAST_NAMES)

    def name(self, *, spoken: bool) -> str:
        """A full or partial name, capitalised or (ASR) lower-case."""
        r = self.rng.random()
        first, last = self.first(), self.last()
        if r < 0.55:
            value = f"{first} {last}"
        elif r < 0.7:
            value = f"{first} {self.rng.choice('ABCDEJKLMRST')}. {last}"
        elif r < 0.85:
            value = first
        else:
            value = f"{first} {last}"
        if spoken and self.rng.random() < 0.3:
            value = value.lower().replace(".", "")
        return value

    def spelled(self, word: str) -> str:
        """A name spelled out letter by letter, sometimes with "as in" hints."""
        letters = list(word.upper())
        style = self.rng.random()
        if style < 0.3:
            return " ".join(letters)
        if style < 0.5:
            return "-".join(letters)
        if style < 0.7:
            return ", ".join(letters).lower()
        hint = self.rng.choice(["Sam", "Tom", "Mary", "David", "Nancy", "Boy", "Edward", "Paul"])
        return f"{letters[0]} as in {hint}, " + " ".join(letters[1:])

    def dob(self) -> dt.date:
        """A birth date between 1930 and 2008."""
        start = dt.date(1930, 1, 1).toordinal()
        return dt.date.fromordinal(start + self.rng.randrange(365 * 78))

    def date_written(self, day: dt.date) -> str:
        """A written date in one of the usual US forms."""
        month = MONTH_NAMES[day.month - 1]
        return self.rng.choice(
            [
                f"{day.month:02d}/{day.day:02d}/{day.year}",
                f"{day.month}/{day.day}/{day.year % 100:02d}",
                f"{day.month}/{day.day}/{day.year}",
                f"{day.year}-{day.month:02d}-{day.day:02d}",
                f"{month} {day.day}, {day.year}",
                f"{month[:3]} {day.day} {day.year}",
                f"{month} {day.day}th, {day.year}"
                if day.day > 3 and day.day < 21
                else f"{month} {day.day}, {day.year}",
                f"{day.month:02d}-{day.day:02d}-{day.year}",
            ]
        )

    def date_spoken(self, day: dt.date, *, cued: bool) -> str:
        """A date as ASR writes speech; numeric forms only where a birth-date cue precedes."""
        month = MONTH_NAMES[day.month - 1]
        if self.rng.random() < 0.5:
            month = month.lower()
        year = say_year(day.year, self.rng)
        forms = [
            f"{month} {say_ordinal(day.day)} {year}",
            f"{month} {say_ordinal(day.day)}, {year}",
            f"{month} {say_number(day.day)}, {year}",
            f"the {say_ordinal(day.day)} of {month}, {year}",
            f"{month} {day.day}, {day.year}",
            f"{month} {say_ordinal(day.day)}",
        ]
        if cued:
            forms += [
                f"{say_number(day.month)} {say_number(day.day)} {say_number(day.year % 100) if day.year % 100 >= 10 else 'oh ' + UNIT_WORDS[day.year % 100]}",
                f"{say_digits(f'{day.month:02d}', self.rng)}, {say_digits(f'{day.day:02d}', self.rng)}, {year}",
                f"{say_number(day.month)}, {say_number(day.day)}, {year}",
            ]
        return self.rng.choice(forms)

    def phone_digits(self) -> str:
        """A fictional number: any area code, exchange 555, line 0100-0199."""
        area = self.rng.choice(
            ["202", "312", "415", "617", "713", "206", "404", "305", "503", "612"]
        )
        return f"{area}5550{self.rng.randrange(100, 200)}"

    def phone_written(self, digits: str) -> str:
        """Written phone forms."""
        a, b, c = digits[:3], digits[3:6], digits[6:]
        return self.rng.choice(
            [
                f"{a}-{b}-{c}",
                f"({a}) {b}-{c}",
                f"{a}.{b}.{c}",
                f"{a} {b} {c}",
                f"{digits}",
                f"+1 {a} {b} {c}",
                f"1-{a}-{b}-{c}",
            ]
        )

    def phone_spoken(self, digits: str) -> str:
        """Spoken phone forms: digit by digit, in pairs, with pauses."""
        a, b, c = digits[:3], digits[3:6], digits[6:]
        style = self.rng.random()
        if style < 0.4:
            return (
                f"{say_digits(a, self.rng)}, {say_digits(b, self.rng)}, {say_digits(c, self.rng)}"
            )
        if style < 0.6:
            return say_digits(digits, self.rng)
        if style < 0.8:
            pairs = f"{say_number(int(c[:2])) if c[0] != '0' else say_digits(c[:2], self.rng)} {say_number(int(c[2:])) if c[2] != '0' else say_digits(c[2:], self.rng)}"
            return f"{say_digits(a, self.rng)} {say_digits(b, self.rng)} {pairs}"
        return f"area code {say_digits(a, self.rng)}, {say_digits(b, self.rng)} dash {say_digits(c, self.rng)}"

    def ssn_digits(self) -> str:
        """A never-issued SSN (area 9xx)."""
        return f"9{self.rng.randrange(10, 100)}{self.rng.randrange(10, 100)}{self.rng.randrange(1000, 10000)}"

    def mrn(self) -> str:
        """A medical record or member id."""
        return self.rng.choice(
            [
                f"{self.rng.randrange(10**7, 10**8)}",
                f"00{self.rng.randrange(10**5, 10**6)}",
                f"A{self.rng.randrange(10**6, 10**7)}",
                f"XJH{self.rng.randrange(10**8, 10**9)}",
                f"MRN-{self.rng.randrange(10**5, 10**6)}",
            ]
        )

    def email(self, first: str, last: str) -> tuple[str, str]:
        """A fake address (reserved domains) and how it is said."""
        domain = self.rng.choice(["example.com", "example.org", "example.net", "mail.example.com"])
        local = self.rng.choice(
            [f"{first}.{last}", f"{first[0]}{last}", f"{first}{self.rng.randrange(10, 99)}"]
        ).lower()
        spoken_local = local.replace(".", " dot ")
        if self.rng.random() < 0.3:
            spoken_local = " ".join(spoken_local.replace(" dot ", ".")).replace(" . ", " dot ")
        return f"{local}@{domain}", f"{spoken_local} at {domain.replace('.', ' dot ')}"

    def street(self, *, spoken: bool) -> str:
        """A street line; spoken ones say the house number as people do."""
        n = self.rng.choice([self.rng.randrange(10, 100), self.rng.randrange(100, 2000)])
        street = self.rng.choice(STREETS)
        suffix = self.rng.choice(SUFFIXES)
        if spoken:
            line = f"{say_house(n)} {street} {suffix}"
            return line.lower() if self.rng.random() < 0.4 else line
        if self.rng.random() < 0.3 and suffix in SPOKEN_SUFFIX_ABBR:
            suffix = SPOKEN_SUFFIX_ABBR[suffix] + "."
        unit = self.rng.choice(["", "", "", f", Apt {self.rng.randrange(1, 30)}"])
        return f"{n} {street} {suffix}{unit}"

    def zip(self) -> str:
        """A five-digit ZIP code."""
        return f"{self.rng.randrange(10000, 99999)}"


# --- templates --------------------------------------------------------------------------------

# A template is a list of text pieces and slot callables returning (surface, kind | None).
Piece = (
    str | Callable[[Fake], tuple[str, str | None]] | Callable[[Fake], list[tuple[str, str | None]]]
)


def _slot(kind: str, make: Callable[[Fake], str]) -> Callable[[Fake], tuple[str, str | None]]:
    return lambda f: (make(f), kind)


def _build(pieces: list[Piece], fake: Fake, source: str) -> Example:
    text = ""
    spans: list[tuple[int, int, str]] = []
    for piece in pieces:
        if isinstance(piece, str):
            text += piece
            continue
        made = piece(fake)
        # A slot may yield several parts, e.g. a surname and then its spelling.
        for surface, kind in made if isinstance(made, list) else [made]:
            if kind is not None:
                spans.append((len(text), len(text) + len(surface), kind))
            text += surface
    return Example(text, spans, source)


NAME = Kind.NAME.value
DATE = Kind.DATE.value
PHONE = Kind.PHONE.value
SSN = Kind.SSN.value
MRN = Kind.MRN.value
EMAIL = Kind.EMAIL.value
ADDRESS = Kind.ADDRESS.value
AGE = Kind.AGE.value

s_name = _slot(NAME, lambda f: f.name(spoken=True))
s_name_written = _slot(NAME, lambda f: f"{f.first()} {f.last()}")
s_first = _slot(NAME, lambda f: f.first())
s_last = _slot(NAME, lambda f: f.last())
s_spelled_last = _slot(NAME, lambda f: f.spelled(f.last()))
s_dob_spoken = _slot(DATE, lambda f: f.date_spoken(f.dob(), cued=True))
s_date_spoken = _slot(DATE, lambda f: f.date_spoken(f.dob(), cued=False))
s_dob_written = _slot(DATE, lambda f: f.date_written(f.dob()))
s_phone_spoken = _slot(PHONE, lambda f: f.phone_spoken(f.phone_digits()))
s_phone_written = _slot(PHONE, lambda f: f.phone_written(f.phone_digits()))
s_ssn_written = _slot(SSN, lambda f: (lambda d: f"{d[:3]}-{d[3:5]}-{d[5:]}")(f.ssn_digits()))
s_ssn_spoken = _slot(
    SSN,
    lambda f: (
        lambda d: (
            f"{say_digits(d[:3], f.rng)}, {say_digits(d[3:5], f.rng)}, {say_digits(d[5:], f.rng)}"
        )
    )(f.ssn_digits()),
)
s_ssn_last4 = _slot(SSN, lambda f: say_digits(f.ssn_digits()[-4:], f.rng))
s_mrn_written = _slot(MRN, lambda f: f.mrn())
s_mrn_spoken = _slot(MRN, lambda f: say_digits(str(f.rng.randrange(10**6, 10**9)), f.rng))
s_member_spoken = _slot(
    MRN,
    lambda f: (
        " ".join(f.rng.choice("ABCHJKMWX") for _ in range(2)).lower()
        + " "
        + say_digits(str(f.rng.randrange(10**5, 10**8)), f.rng)
    ),
)
s_street_spoken = _slot(ADDRESS, lambda f: f.street(spoken=True))
s_street_written = _slot(ADDRESS, lambda f: f.street(spoken=False))
s_full_address = _slot(
    ADDRESS,
    lambda f: f"{f.street(spoken=False)}, {f.rng.choice(CITIES)}, {f.rng.choice(STATES)} {f.zip()}",
)
s_zip_spoken = _slot(ADDRESS, lambda f: say_digits(f.zip(), f.rng))
s_zip_written = _slot(ADDRESS, lambda f: f.zip())
s_age_spoken = _slot(AGE, lambda f: say_number(f.rng.randrange(90, 105)))
s_age_written = _slot(AGE, lambda f: str(f.rng.randrange(90, 105)))


def s_name_then_hyphen_spelling(f: Fake) -> list[tuple[str, str | None]]:
    """ "Robert Kowalski, K-O-W-A-L-S-K-I"."""
    first, last = f.first(), f.last()
    return [(f"{first} {last}", NAME), (", ", None), ("-".join(last.upper()), NAME)]


def s_ssn_spaced(f: Fake) -> tuple[str, str | None]:
    """An SSN written with spaces."""
    d = f.ssn_digits()
    return f"{d[:3]} {d[3:5]} {d[5:]}", SSN


def s_member_spelled_digits(f: Fake) -> tuple[str, str | None]:
    """ "W 1 2 3 4 5 6 7 8 9": a letter and digits said one by one, as ASR writes them."""
    return f.rng.choice("WHKX") + " " + " ".join(str(f.rng.randrange(10**8, 10**9))), MRN


def s_member_grouped(f: Fake) -> tuple[str, str | None]:
    """ "XDP 442 918 337"."""
    prefix = "".join(f.rng.choice("ABDHKPWXYZ") for _ in range(3))
    return (
        f"{prefix} {f.rng.randrange(100, 999)} {f.rng.randrange(100, 999)} {f.rng.randrange(100, 999)}",
        MRN,
    )


def s_month_day_slash(f: Fake) -> tuple[str, str | None]:
    """A month/day written with a slash ("11/30")."""
    day = f.dob()
    return f"{day.month}/{day.day}", DATE


def _email_spoken_underscore(f: Fake) -> tuple[str, str | None]:
    first, last = f.first().lower(), f.last().lower()
    return f"{first} underscore {last[0]} at example dot net", EMAIL


def s_last_then_spelled(joiner: str) -> Callable[[Fake], list[tuple[str, str | None]]]:
    """A surname, the joiner, then the same surname spelled out."""

    def make(f: Fake) -> list[tuple[str, str | None]]:
        last = f.last()
        return [(last, NAME), (joiner, None), (f.spelled(last), NAME)]

    return make


def s_first_then_spelled(joiner: str) -> Callable[[Fake], list[tuple[str, str | None]]]:
    """A given name, the joiner, then its spelling."""

    def make(f: Fake) -> list[tuple[str, str | None]]:
        first = f.first()
        return [(first, NAME), (joiner, None), (f.spelled(first), NAME)]

    return make


def _email_spoken(f: Fake) -> tuple[str, str | None]:
    return f.email(f.first(), f.last())[1], EMAIL


def _email_written(f: Fake) -> tuple[str, str | None]:
    return f.email(f.first(), f.last())[0], EMAIL


CALL_TEMPLATES: list[list[Piece]] = [
    ["Hi, my name is ", s_name, " and I'd like to reschedule my appointment."],
    ["my name is ", s_name, ", date of birth ", s_dob_spoken, "."],
    ["Yes, this is ", s_name_written, "."],
    ["Hi, this is ", s_name_written, " calling about my prescription."],
    ["It's ", s_first, ", I'm calling for my mother."],
    ["My last name is ", s_last_then_spelled(", that's "), "."],
    ["last name ", s_last_then_spelled(", spelled ")],
    ["first name ", s_first_then_spelled(", "), ", last name ", s_last_then_spelled(", ")],
    ["my date of birth is ", s_dob_spoken],
    ["Date of birth is ", s_dob_spoken, "."],
    ["I was born on ", s_date_spoken, "."],
    ["Um, my birthday is ", s_date_spoken, ", I think you have it on file."],
    ["You can reach me at ", s_phone_spoken, "."],
    ["my phone number is ", s_phone_spoken],
    ["my cell is ", s_phone_written, " if you need to call me back."],
    ["Call me back at ", s_phone_spoken, ", any time after noon."],
    ["the best number is ", s_phone_spoken, " thanks"],
    ["My social is ", s_ssn_spoken, "."],
    ["the last four of my social are ", s_ssn_last4],
    ["social security number ", s_ssn_spoken],
    ["My member ID is ", s_member_spoken, "."],
    ["my medical record number is ", s_mrn_spoken],
    ["The member number on the card is ", s_mrn_spoken, "."],
    ["my email is ", _email_spoken],
    ["You can email me at ", _email_spoken, "."],
    ["It's ", _email_written, "."],
    ["I live at ", s_street_spoken, "."],
    ["my address is ", s_street_spoken, ", apartment two"],
    ["the zip code is ", s_zip_spoken],
    ["My mother is ", s_age_spoken, " years old and she can't drive."],
    ["She's ", s_age_spoken, " now, she turned ", s_age_spoken, " in the spring."],
    ["I'm calling for my husband ", s_name_written, ", he's ", s_age_spoken, " years old."],
    ["Okay, ", s_first, ", I have you down for Tuesday at ten thirty."],
    ["Thank you, ", s_name_written, ". Is ", s_phone_written, " still a good number?"],
    [
        "So that's ",
        s_name,
        ", born ",
        s_date_spoken,
        ", and the number is ",
        s_phone_spoken,
        ".",
    ],
    ["yeah it's ", s_phone_spoken, " and my email is ", _email_spoken],
    ["This is ", s_name_written, ", my date of birth is ", s_dob_spoken, ", I need a refill."],
    ["I'm calling about my daughter ", s_first, ", she has a fever."],
    ["Mrs. ", s_last, " wants to confirm her appointment on ", s_date_spoken, "."],
    ["Can you send it to ", s_street_written, "?"],
    ["Yeah hi, my name is ", s_name_then_hyphen_spelling, "."],
    ["Date of birth, uh, ", s_date_spoken, "."],
    ["My birthday is ", s_dob_written, "."],
    ["DOB is ", s_dob_spoken, "."],
    ["Callback number is ", s_phone_spoken, "."],
    ["You can call me at ", s_phone_written, "."],
    ["Social is ", s_ssn_spaced, "."],
    ["Member ID is ", s_member_spelled_digits, "."],
    ["Insurance ID number is ", s_member_grouped, "."],
    ["Email is ", _email_spoken_underscore, "."],
    ["I live at ", s_street_written, "."],
    ["My zip is ", s_zip_written, "."],
    ["Zip code ", s_zip_spoken, "."],
    ["My grandmother is ", s_age_written, " and she fell yesterday."],
    ["my dad is ", s_age_spoken, ", he can't come to the phone"],
    ["Can I speak with Mr. ", s_last, "?"],
    ["Hi ", s_first, ", this is the clinic calling to confirm."],
    ["I'm calling for my son, ", s_first, "."],
    ["Last name ", s_last, ", first name ", s_first, "."],
    ["My husband ", s_name_written, " has an appointment on ", s_date_spoken, "."],
    ["The appointment on ", s_month_day_slash, " at 2 pm."],
    ["uh yeah it's ", s_phone_spoken, " um that's my cell"],
    [
        "ok so my date of birth is ",
        s_dob_spoken,
        " and the last four of my social are ",
        s_ssn_last4,
    ],
]

NOTE_TEMPLATES: list[list[Piece]] = [
    ["Patient: ", s_name_written, ", DOB ", s_dob_written, ", MRN ", s_mrn_written, "."],
    ["Pt ", s_name_written, " (DOB ", s_dob_written, ") seen for follow-up."],
    ["Contact: ", s_phone_written, "; email ", _email_written, "."],
    ["Address on file: ", s_full_address, "."],
    ["Home address ", s_street_written, ", zip ", s_zip_written, "."],
    ["SSN ", s_ssn_written, " verified with insurance."],
    [s_age_written, "-year-old female presents with shortness of breath."],
    ["Patient is a ", s_age_written, " year old male, history of CHF."],
    ["Member ID: ", s_mrn_written, ", group 4410."],
    ["Mr. ", s_last, " reports dizziness since ", s_dob_written, "."],
    ["Spoke with ", s_name_written, " by phone at ", s_phone_written, "."],
    ["Next of kin: ", s_name_written, ", ", s_phone_written, "."],
    ["Seen on ", s_dob_written, "; return in 2 weeks."],
    ["Admitted ", s_dob_written, ", discharged ", s_dob_written, "."],
    ["Patient is a ", s_age_written, " yo female with dementia."],
    ["Pt name: ", s_name_written, "  MRN: ", s_mrn_written, "  Phone: ", s_phone_written],
    ["Emergency contact ", s_name_written, " (daughter) ", s_phone_written, "."],
    ["Mailing address: ", s_full_address],
]

NEGATIVES: list[str] = [
    "Can I come in at three fifteen tomorrow?",
    "The appointment is at ten thirty on Tuesday.",
    "I take 500 milligrams twice a day.",
    "She takes twenty milligrams of lisinopril every morning.",
    "Take two tablets every six hours with food.",
    "For appointments press 1, for billing press 2.",
    "press two to speak to a nurse",
    "If this is an emergency, hang up and dial nine one one.",
    "Please go to room 412 on the fourth floor.",
    "The lab is in suite 200, second floor.",
    "I have three kids and two of them are sick.",
    "It's been about fifteen minutes and the pain is a seven out of ten.",
    "My blood pressure was one twenty over eighty this morning.",
    "Temperature ninety eight point six, pulse seventy two.",
    "I weigh about one hundred sixty pounds.",
    "The copay is twenty five dollars.",
    "The bill says $1,250.00 and I already paid $300.",
    "I've been on it since 2019.",
    "We're open eight to five Monday through Friday.",
    "Your appointment is confirmed for 3:15 PM.",
    "Can I do two thirty or a quarter past four?",
    "I need a refill on my 10 mg tablets, ninety day supply.",
    "I'm forty five years old and this never happened before.",
    "He's 67 and otherwise healthy.",
    "It happened about three weeks ago.",
    "Press star to repeat this menu.",
    "Dial zero for the operator.",
    "The wait is about twenty minutes right now.",
    "My daughter is six and my son is nine.",
    "Please arrive fifteen minutes early and bring your insurance card.",
    "May I ask what this is regarding?",
    "Will you be using insurance today?",
    "I walked two miles yesterday and felt fine.",
    "Room 12B is on the left.",
    "The office is closed on Thanksgiving.",
    "One moment please while I check the schedule.",
    "Is next Monday at nine okay?",
    "I was told to take one and a half pills at bedtime.",
    "Twelve hundred milligrams a day is the maximum.",
    "The results should be back in three to five business days.",
    "extension two oh four, or just press one",
    "I'm on the second floor, room two fourteen.",
    "we have four providers and six nurses here",
    "A1C was 7.2 last time, down from 8.1.",
    "Check in at the front desk with your photo ID.",
    "Okay, I can hear you now.",
    "Sure, I can do that for you.",
    "Let me transfer you to the pharmacy.",
    "The prescription is for thirty tablets with two refills.",
    "Your total today is forty dollars and fifty cents.",
    "It's been hurting for about two or three days.",
    "That is in about ninety minutes.",
    "Come back in 6 weeks for a recheck.",
    "Patient denies chest pain. Vitals stable.",
    "Ibuprofen 400 mg every 6 hours as needed.",
    "BP 128/82, HR 76, RR 16, SpO2 98%.",
    "Follow up in 3-4 weeks.",
    "Take 1 tablet by mouth daily for 30 days.",
    "Grace period for the payment is ten days.",
    "I need to march over there after lunch.",
    "The appointment is at 2:30 PM.",
    "Could we do quarter after three?",
    "I take metformin 500 mg twice a day and lisinopril 10 mg.",
    "Press 1 for English, press 2 for Spanish.",
    "You are caller number 3 in the queue.",
    "The pharmacy is open until 9 PM.",
    "We're located on the third floor, suite 300.",
    "My son is 12 and my daughter is 9.",
    "It's about 20 minutes from my house.",
    "I've lost about fifteen pounds in two months.",
    "The copay will be $35.",
    "My A1C was seven point two.",
    "Blood sugar was one forty this morning.",
    "I need 90 tablets for 3 months.",
    "Take one pill every eight hours for ten days.",
    "I think it was back in 2015.",
    "Yeah, the 15th works.",
    "I can come in any time after 4.",
    "My insurance is Blue Cross Blue Shield.",
    "He weighs 180 pounds and is 6 feet tall.",
    "Heart rate was ninety two.",
    "Go to room 104 on the first floor.",
    "Take 1/2 tablet at night.",
    "We see patients 24/7 at the urgent care.",
    "It costs about a hundred and twenty dollars without insurance.",
    "Your confirmation will come by text in about five minutes.",
    "Option three, please.",
    "I'd like the eight forty five slot.",
    "It was three or four years ago.",
    "Can you do twelve fifteen instead?",
    "I'm on the ten milligram dose now, was on five.",
]


def generate(*, seed: int = 20261123, n_calls: int = 900, n_notes: int = 300) -> list[Example]:
    """The corpus: call utterances, note lines and every negative sentence (shuffled)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible fake corpus, not a secret
    fake = Fake(rng)
    examples = [_build(rng.choice(CALL_TEMPLATES), fake, "call") for _ in range(n_calls)]
    examples += [_build(rng.choice(NOTE_TEMPLATES), fake, "note") for _ in range(n_notes)]
    negatives = [Example(t, [], "negative") for t in NEGATIVES]
    # Negatives also appear lower-cased and unpunctuated, as some ASR writes them.
    negatives += [
        Example(t.lower().replace(",", "").replace(".", ""), [], "negative") for t in NEGATIVES
    ]
    examples += negatives * 3
    rng.shuffle(examples)
    return examples


# --- whole calls ------------------------------------------------------------------------------

AGENT_LINES = [
    "Thank you for calling Riverside Family Medicine, this is the virtual receptionist.",
    "How can I help you today?",
    "I can help with that. Can I have your full name, please?",
    "And can you confirm your date of birth?",
    "Thank you, I've verified your identity.",
    "Let me look at the schedule for you.",
    "I have an opening on Thursday at two fifteen or Friday at nine in the morning.",
    "Which of those works better for you?",
    "Okay, you're all set. Is there anything else I can help you with?",
    "I'm sorry, I didn't catch that. Could you say it again?",
    "One moment while I check that for you.",
    "I'll send a message to the nurse and someone will call you back today.",
    "Please remember to bring your insurance card and a list of your medications.",
    "If this is a medical emergency, please hang up and dial nine one one.",
    "I can transfer you to the front desk now.",
    "Your appointment is with the nurse practitioner, and it will take about thirty minutes.",
    "Is the number we have on file still the best way to reach you?",
    "Great, thanks for your patience.",
]
CALLER_LINES = [
    "Hi, yeah, I need to make an appointment.",
    "I've had this cough for about two weeks and it's not getting better.",
    "Um, I think Thursday works, the afternoon is better for me.",
    "Yes, that's right.",
    "No, that's all, thank you so much.",
    "Can you hear me okay? I'm driving.",
    "I need a refill on my blood pressure medication, I'm almost out.",
    "I take the twenty milligram ones, one in the morning.",
    "Sorry, can you repeat that?",
    "My kid has a fever of a hundred and one since last night.",
    "Is the doctor in on Saturdays?",
    "I was there last month for the same thing and they said to call back.",
    "I'm not sure, let me check my card, hold on.",
    "Okay, okay, got it.",
    "It's the pharmacy on Main, the one near the grocery store.",
    "Do I need to fast before the blood work?",
    "I'd rather see the same doctor as last time if possible.",
    "Yeah, the second one is fine.",
    "It hurts when I walk, maybe a six out of ten.",
    "I have two more questions if that's okay.",
]


def generate_calls(*, seed: int = 20261124, n_calls: int = 200) -> list[Example]:
    """Whole call transcripts: ordinary turns with the corpus's PHI turns mixed in (1 in 4)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible fake corpus, not a secret
    fake = Fake(rng)
    calls: list[Example] = []
    for _ in range(n_calls):
        turns: list[Example] = []
        for i in range(rng.randrange(12, 30)):
            if rng.random() < 0.25:
                turns.append(_build(rng.choice(CALL_TEMPLATES), fake, "call"))
            else:
                lines = AGENT_LINES if i % 2 == 0 else CALLER_LINES
                turns.append(Example(rng.choice(lines), [], "call"))
        text = ""
        spans: list[tuple[int, int, str]] = []
        for i, turn in enumerate(turns):
            prefix = (
                ("Agent: " if i % 2 == 0 else "Caller: ")
                if text == ""
                else ("\nAgent: " if i % 2 == 0 else "\nCaller: ")
            )
            text += prefix
            spans += [(s + len(text), e + len(text), k) for s, e, k in turn.spans]
            text += turn.text
        calls.append(Example(text, spans, "transcript"))
    return calls
