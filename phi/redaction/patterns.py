"""Compiled patterns, word lists and cue phrases of the redaction engine.

Invariant: every pattern here runs in linear time on any input. Each repeated part is a
character class disjoint from what follows it, every repetition of variable-width parts is
bounded, and no pattern starts with an unanchored `[\\w.]+` (which goes quadratic on a long
run of word characters); e-mail addresses are therefore found from their "@" outwards.
"""

import re
from enum import StrEnum
from functools import cache
from pathlib import Path

_DATA = Path(__file__).resolve().parent / "data"


class Kind(StrEnum):
    """What a redacted span was; the mask shows it as a typed placeholder."""

    NAME = "NAME"
    DATE = "DATE"
    PHONE = "PHONE"
    SSN = "SSN"
    MRN = "MRN"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    AGE = "AGE"


# When two detections overlap, the merged span takes the kind that ranks first here: the
# more specific identifier wins (an e-mail holding a spelled name is an e-mail).
KIND_PRIORITY = {
    Kind.EMAIL: 0,
    Kind.SSN: 1,
    Kind.MRN: 2,
    Kind.PHONE: 3,
    Kind.DATE: 4,
    Kind.ADDRESS: 5,
    Kind.AGE: 6,
    Kind.NAME: 7,
}


def _words(text: str) -> list[str]:
    """The whitespace-separated words of a block of text (keeps word lists readable)."""
    return text.split()


def _phrases(text: str) -> list[str]:
    """The "|"-separated phrases of a block of text, whitespace normalised."""
    return [" ".join(p.split()) for p in text.split("|") if p.strip()]


def _load(name: str) -> frozenset[str]:
    lines = (_DATA / name).read_text(encoding="utf-8").splitlines()
    return frozenset(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#"))


@cache
def first_names() -> frozenset[str]:
    """Lower-cased common given names."""
    return _load("first_names.txt") | EXTRA_FIRST_NAMES


@cache
def last_names() -> frozenset[str]:
    """Lower-cased common surnames."""
    return _load("last_names.txt") | EXTRA_LAST_NAMES


# Names missing from the census lists but common on US phone lines.
EXTRA_FIRST_NAMES = frozenset(
    _words(
        """
    aisha ahmed ali amir ana andre andrea angela anh arjun bao carmen chen chloe cristina
    diego dmitri elena emily emma fatima fernando gabriela hana hannah hao isabella ivan
    jamal javier jin jose juan kenji keisha latoya lei li lin lucia luis malik mariana
    marisol mei ming mohamed mohammed muhammad nadia nguyen olga omar pablo pedro priya raj
    rajesh ravi rosa sakura sanjay sofia sophia tamika thanh wei xin yan yuki yusuf zhang
    zoe hazel ella aria luna layla mila nova ezra kai mateo leo eli aurora violet stella naomi
    maya camila valentina santiago sebastian gael jayden aiden liam noah oliver elijah lucas
    levi asher silas theo
    """
    )
)
EXTRA_LAST_NAMES = frozenset(
    _words(
        """
    ahmed ali chen cho choi das dang do gupta ho huang hussain khan kim kumar le lee li lin
    liu ng nguyen patel pham rao shah singh tan tran truong vo vu wang wong wu xu yang zhang
    zhao okafor okonkwo mensah kowalski nowak novak ivanov petrov schmidt mueller muller
    rossi russo
    """
    )
)

# Given names that are also everyday words: a capital letter alone does not make them a name
# (sentence starts, "May I", "Will you"); they need a cue or a surname after them.
AMBIGUOUS_FIRST_NAMES = frozenset(
    _words(
        """
    april august art bill bob bud buck chance chase christian summer autumn dawn eve faith
    frank grace guy hope iris ivy jack jean jewel joy june justice king lane lily major mark
    max may miles misty penny pat patience price ray reed rich rob rose ruby rusty sandy sky
    stone sunny tanner will walker wade young hunter mason carter taylor parker page grant
    gene heather holly angel destiny earnest ernest jay dean drew gay georgia carol virginia
    """
    )
)

# Capitalised words that are never a name on their own (sentence openers, calendar words,
# places of the call flow). Checked lower-cased.
NOT_NAMES = frozenset(
    _words(
        """
    a an and are as at be but by can could did do does doctor dr for from good great had has
    have he hello her hey hi him his how i i'm i'd i'll i've if in is it it's its just let
    me my no not now of ok okay on or our please press see she so sure thank thanks that the
    their them then there these they this those to uh um us was we well were what when where
    which who why will with would yes yeah you your yours monday tuesday wednesday thursday
    friday saturday sunday today tomorrow yesterday january february march april may june
    july august september october november december morning afternoon evening night clinic
    office hospital pharmacy insurance medicare medicaid doctor nurse patient street avenue
    road drive lane boulevard court way place suite room floor building mr mrs ms miss
    mister sir madam ma'am american english spanish covid tylenol advil ibuprofen lisinopril
    metformin
    blue cross shield central united general memorial medical family health care north south
    east west new saint mount lake river valley county city state university center centre
    emergency urgent primary walgreens cvs kaiser aetna cigna humana anthem riverside agent
    caller receptionist assistant operator
    """
    )
)

# Words that can follow "this is" / "I'm" / "my name is" without being a name.
NAME_CUE_STOPWORDS = NOT_NAMES | frozenset(
    _words(
        """
    about after again all also am another any anyone anything around asking back bad because
    been before being best better busy call called calling calls checking coming confused
    correct definitely different done doing down each either else even ever every everything
    exactly feeling fine following free frustrated glad going gonna gotta happy having her
    here hoping hurt important interested just kind last later like little looking lost mean
    more most much need needing new next nice no nobody nothing off old on one only other
    out over pretty probably quite ready really regarding right running same scheduled
    scheduling should sick since so some someone something soon sorry still such supposed
    sure talking than that's the there thinking tired too trying two under unsure up urgent
    very waiting want wanted wanting what's whoever wondering worried wrong actually also
    currently honestly literally basically
    """
    )
)

MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}

UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
MULTIPLIERS = {"double": 2, "triple": 3}
SCALES = {"hundred": 100, "thousand": 1000}

US_STATES = frozenset(
    _words(
        """
    al ak az ar ca co ct de fl ga hi id il in ia ks ky la me md ma mi mn ms mo mt ne nv nh
    nj nm ny nc nd oh ok or pa ri sc sd tn tx ut vt va wa wv wi wy dc alabama alaska arizona
    arkansas california colorado connecticut delaware florida georgia hawaii idaho illinois
    indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan minnesota
    mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania tennessee
    texas utah vermont virginia washington wisconsin wyoming
    """
    )
)

STREET_SUFFIXES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|drive|dr|lane|ln|court|ct|way|place|pl|"
    "terrace|ter|circle|cir|parkway|pkwy|highway|hwy|trail|trl|crescent|alley|pike|plaza|ridge"
)


def trie_regex(words: list[str]) -> str:
    """An alternation of words as a prefix tree, so the regex engine never retries a prefix.

    ["five", "fifty", "four"] -> "f(?:i(?:ve|fty)|our)"; much faster than a flat alternation
    of a hundred words, and still linear.
    """
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_to_regex(trie)


def _trie_to_regex(node: dict[str, dict]) -> str:
    ends = "" in node
    branches = [re.escape(ch) + _trie_to_regex(child) for ch, child in node.items() if ch]
    if not branches:
        return ""
    # Longer continuations first: "nineteen" must win over "nine" before the closing \b.
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


_NUMBER_WORDS = (
    list(UNITS) + list(TEENS) + list(TENS) + list(ORDINALS) + list(MULTIPLIERS) + list(SCALES)
)


# One pass over the lower-cased text finds every token a spoken number, date or written
# digit group is made of. Digits may carry an ordinal suffix ("3rd"). Every alternative starts
# with a literal character, so the regex engine skips positions that cannot start a token in C
# (a pattern opening with \b or \d is tried at every position, ~30% slower); the word boundary
# before a word is the lookbehind after its first letter.
def word_start_trie_regex(words: list[str]) -> str:
    r"""trie_regex(words) behind a word boundary, with a literal letter opening each branch.

    `\b(?:five|four)` makes the regex engine try every position; "f(?<!\w.)(?:ive|our)" lets
    it skip in C to the positions holding a first letter (the lookbehind after that letter is
    the boundary). Every word must start with a word character.
    """
    return "|".join(
        re.escape(ch) + r"(?<!\w.)" + _trie_to_regex(child)
        for ch, child in sorted(_trie(words).items())
    )


def _number_token_regex(words: list[str]) -> str:
    branches = [digit + r"\d*(?:st|nd|rd|th)?(?![a-z])" for digit in "0123456789"]
    branches += [
        re.escape(ch) + r"(?<!\w.)" + _trie_to_regex(child) + r"\b"
        for ch, child in sorted(_trie(words).items())
    ]
    return "|".join(branches)


def _trie(words: list[str]) -> dict[str, dict]:
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return trie


NUMBER_TOKEN_WORDS = [*_NUMBER_WORDS, *MONTHS, "dash", "hyphen"]
NUMBER_TOKEN_RE = re.compile(_number_token_regex(NUMBER_TOKEN_WORDS))

# What may sit between two tokens of one spoken number: spaces and the punctuation ASR puts
# at pauses, "of"/"the" inside dates, and fillers. Anything else ends the run.
NUMBER_GAP_RE = re.compile(r"(?:[ \t,.\-/()+\u2013\u2014]|\bof\b|\bthe\b|\buh\b|\bum\b|\band\b)*")

# Cues that say what the following number is. Matched on the ~64 characters before a run;
# the cue nearest the run wins.
CUE_RE = re.compile(
    r"(?:(?P<mrn>\bm\s?r\s?n\b|medical record|\brecord|\bchart|\bmember|\bi\.?\s?d\b|subscriber"
    r"|policy|account|patient (?:id|number)|insurance (?:id|number)|identification|confirmation"
    r"|reference|group number|case number)"
    r"|(?P<ssn>social security|\bsocial\b|\bs\.?\s?s\.?\s?n\b|last four)"
    r"|(?P<dob>birth|\bborn\b|\bd\.?\s?o\.?\s?b\b|birthday|\bdate\b)"
    r"|(?P<zip>\bzip\b|postal)"
    r"|(?P<phone>phone|number|\bcell\b|mobile|\bcall\b|reach|callback|\btext\b|contact|\bfax\b"
    r"|landline)"
    # Words that say a number is something else: they cancel an earlier cue.
    r"|(?P<other>\bgroup\b|\broom\b|\bsuite\b|\bfloor\b|\bpress\b|\bdial\b|\boption\b"
    r"|extension|\bext\b|temperature|\btemp\b|pulse|\bbp\b|pressure|weight|\bcopay|dollars"
    r"|\bat\b|\bby\b|o'clock|\bam\b|\bpm\b)"
    r"|(?P<age>\baged?\b|turn(?:ed|ing|s)?\b))"
    r"(?:\s*(?:number|no\b|#|id\b|code))?"
)

# The same cues word by word, for the fast path (engine._cue walks the words backwards).
CUE_WORDS = {
    **dict.fromkeys(
        _words(
            """
    mrn record records chart member subscriber policy account identification confirmation
    reference case id
    """
        ),
        "mrn",
    ),
    **dict.fromkeys(["social", "ssn", "security"], "ssn"),
    **dict.fromkeys(["birth", "born", "dob", "birthday", "birthdate", "date"], "dob"),
    **dict.fromkeys(["zip", "zipcode", "postal"], "zip"),
    **dict.fromkeys(
        _words(
            """
    phone telephone number cell cellphone mobile call reach callback text contact fax
    landline
    """
        ),
        "phone",
    ),
    **dict.fromkeys(["age", "aged", "turned", "turning", "turns"], "age"),
    **dict.fromkeys(
        _words(
            """
    group room suite floor press dial option extension ext temperature temp pulse bp
    pressure weight copay dollars at by o'clock am pm
    """
        ),
        "other",
    ),
}
# Words that take their meaning from the word before ("member number", "zip code").
CUE_FOLLOWERS = frozenset(["number", "numbers", "no", "#", "code", "id"])

AGE_AFTER_RE = re.compile(r"\s*-?\s*(?:years?|yrs?|y/?o\b|year-old|years-old)")
AGE_BEFORE_RE = re.compile(
    r"(?:\baged?|\bturn(?:ed|ing|s)?|\bage of|\bage is|\bage:)[\s,:]*(?:is\s+)?$"
)
# "she's ninety-two now": a person, then the number, then the end of the clause.
AGE_PERSON_BEFORE_RE = re.compile(
    r"(?:\bshe's|\bhe's|\bi'm|\bi am|\bshe is|\bhe is|\bwho is|\bwho's|\bis now|\bbe"
    r"|\b(?:mother|father|mom|dad|grandmother|grandfather|grandma|grandpa|husband|wife|aunt"
    r"|uncle|patient|parent|mum)(?:'s| is))\s+(?:almost\s+|nearly\s+|about\s+|like\s+)?$"
)
AGE_PERSON_AFTER_RE = re.compile(r"\s*(?:now\b|this\b|next\b|[,.;!?]|$|and\b|but\b|so\b)")

STREET_AFTER_RE = re.compile(
    r"\s+(?:(?:north|south|east|west|[nsew]\.?)\s+)?(?:\d{1,3}(?:st|nd|rd|th)\s+)?"
    r"(?:(?!(?:at|on|in|to|the|and|for|of|is|a|my|or|by|from|pm|am|with|see|seeing|doctor|dr|o.clock|times?|days?|weeks?|hours?|minutes?|pills?|tablets?|mg)\b)[a-z][a-z'.\-]*\s+){0,3}?(?:"
    + STREET_SUFFIXES
    + r")\b(?:\.?,?\s*(?:apartment|apt\.?|unit|suite|ste\.?|#)\s*#?\s*[a-z0-9\-]{1,6}\b)?"
)
# Two-letter state codes only in capitals ("IN", not "in"); full names in any case.
STATE_BEFORE_RE = re.compile(
    r"(?:\b(?:"
    + "|".join(sorted(s.upper() for s in US_STATES if len(s) == 2))
    + r")|(?i:\b(?:"
    + "|".join(sorted(s for s in US_STATES if len(s) > 2))
    + r")))\b[\s,.]*$"
)

# Written forms, matched on the original text.
SSN_RE = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
DATE_NUMERIC_RE = re.compile(
    r"(?<![\d/.-])(?:(?:0?[1-9]|1[0-2])([/.-])(?:0?[1-9]|[12]\d|3[01])\1(?:19|20)?\d{2}"
    r"|(?:19|20)\d{2}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01]))(?![\d/.-]?\d)"
)
MRN_WRITTEN_RE = re.compile(
    r"\b(?:mrn|med(?:ical)? rec(?:ord)?(?: no\.?| number| #)?|member id|member #|member no\.?"
    r"|subscriber id|policy (?:no\.?|number|#)|patient id|medicare (?:number|id|#)|mbi)\s*(?:is|:|#|no\.?)?\s*(?:is\s+)?#?\s*"
    r"(?P<id>[a-z]{0,4}-?\d[\d\-]{2,15}[a-z]?|[a-z]{1,4}\d{4,12}"
    r"|\d[a-z0-9]{2,5}(?:-[a-z0-9]{2,6}){1,3})\b"
)
ALNUM_ID_RE = re.compile(r"\b[A-Z]{1,4}-?\d{6,12}\b|\b\d{6,12}-?[A-Z]{1,3}\b")
EMAIL_LOCAL_RE = re.compile(r"[A-Za-z0-9._%+\-]{1,64}$")
EMAIL_DOMAIN_RE = re.compile(r"[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b")

# Spoken e-mail: "... at gmail dot com"; the local part is collected backwards in Python.
SPOKEN_EMAIL_DOMAIN_RE = re.compile(
    # (\b(?:at|@), each branch opening with its literal so the C scanner skips to "a" or "@")
    r"(?:a(?<!\w.)t|@(?<=\w@))\s+(?:(?:[a-z0-9\-]+\s+(?:dot|period)\s+){1,3}|[a-z0-9\-]+\.(?:[a-z0-9\-]+\.){0,2})"
    r"(?:com|net|org|edu|gov|us|io|co|info|biz|me|uk|ca|test)\b"
)
PO_BOX_RE = re.compile(r"\bp\.?\s?o\.?\s+box\s+\d{1,8}\b")
EMAIL_LOCAL_STOP = frozenset(
    _words(
        """
    is it's its it my email e-mail address mail that's thats was to me at and or so yes yeah
    sure okay ok um uh the send use try reach is: : that would be it'll please
    """
    )
)

# Spelled letters: "S as in Sam, M I T H", "s-m-i-t-h", "J. O. N.".
_LETTER = r"\b[a-z]\b\.?(?:,?\s+(?:as\s+in|like|for)\s+[a-z]+\b)?"
SPELLED_RE = re.compile(
    r"(?<![\w'])"
    + _LETTER
    + r"(?:(?:[\s,\-]+|[\s,\-]*\b(?:then|and|double|dash)\b[\s,\-]*)"
    + _LETTER
    + r"){1,40}"
)
SPELL_CUE_RE = re.compile(r"(?:spell|spelled|spelt|that's|it's|as in)[\s\w,:]{0,20}$")

# Names: capitalised words (kept apart by at most one middle initial), and cue phrases.
# (\b[A-Z]...: the boundary is the lookbehind after the capital, so the regex engine skips
# in C from capital to capital.)
CAP_WORD_RE = re.compile(
    r"[A-Z](?<!\w.)(?:[a-z]+(?:['\-][A-Z]?[a-z]+)?|'[A-Z][a-z]+|[a-z]?[A-Z][a-z]+)\b"
)
# Cue phrases after which a capitalised word is taken as a name; found forwards in one pass,
# the engine keeps the offsets where the following word starts.
_RELATIVES = [
    *_words(
        """
    son daughter wife husband mother father mom dad grandmother grandfather grandma grandpa
    grandson granddaughter brother sister aunt uncle partner caregiver
    """
    )
]
NAME_CUE_PHRASES = [
    *_phrases(
        """
        that's | thank you | thanks | okay | ok | hi | hello | hey | sure | alright | bye
        | next of kin | spoke with | spoke to | talked with | talked to | pt | dear | guardian
        | name | first name | last name | my name is | name's | name is | first name is
        | last name is | full name is | patient name is | patient name | this is | i'm | i am
        | it's | speaking with | calling for | calling on behalf of | appointment for | mr. | mr
        | mrs. | mrs | ms. | ms | miss | mister | patient
        """
    ),
    *(f"my {who}" for who in _RELATIVES),
    # "pt's daughter Corinne Vasko", "her husband Desmond": a relative, then a capitalised name
    *_RELATIVES,
    "caregiver for",
]
LOOSE_CUE_PHRASES = [
    "last name",
    "first name",
    "my name is",
    "name's",
    "name is",
    "first name is",
    "last name is",
    "full name is",
    "mr.",
    "mr",
    "mrs.",
    "mrs",
    "ms.",
    "ms",
    "mister",
]
# Cue phrases after which a capitalised word is taken as a name; found forwards in one pass
# (as a prefix tree), the engine keeps the offsets where the following word starts.
NAME_CUE_FINDER_RE = re.compile(
    r"(?P<p>"
    + word_start_trie_regex(sorted(set(NAME_CUE_PHRASES) | set(LOOSE_CUE_PHRASES)))
    + r")[ \t,:]+"
)
# Cues after which the next word is a name even if it is lower-case or not in the lexicon.
LOOSE_CUE_SET = frozenset(LOOSE_CUE_PHRASES)
# Softer cues: in lower-case text only a lexicon given name after them starts a name.
WEAK_CUE_SET = frozenset(
    _phrases(
        """
        this is | i'm | i am | it's | that's | thank you | thanks | okay | patient | calling for
        | speaking with | spoke with | hi | hello
        """
    )
) | frozenset(f"my {who}" for who in _RELATIVES)
EMAIL_TLDS = frozenset(
    ["com", "net", "org", "edu", "gov", "us", "io", "co", "info", "biz", "me", "uk", "ca", "test"]
)
NAME_WORD_RE = re.compile(r"[A-Za-z][A-Za-z'\-]{0,30}")

# Gate vocabularies (engine.find_spans): a detector runs only if one of its words occurs.
NUMBER_VOCAB = frozenset(_NUMBER_WORDS) | frozenset(MONTHS)
NAME_TRIGGER_WORDS = frozenset(
    word.strip(".':")
    for phrase in (*NAME_CUE_PHRASES, *LOOSE_CUE_PHRASES)
    for word in phrase.split()
    if word
    not in (
        "my",
        "is",
        "of",
        "on",
        "for",
        "with",
        "to",
        "i",
        "you",
        "first",
        "last",
        "next",
        "full",
    )
) | frozenset(("i'm", "am"))


def _cue_offsets(phrases: list[str]) -> dict[str, tuple[int, ...]]:
    """Each cue phrase's first trigger word -> how far into its phrases it starts."""
    offsets: dict[str, set[int]] = {}
    for phrase in phrases:
        words = phrase.split()
        first = next(i for i, w in enumerate(words) if w.strip(".':") in NAME_TRIGGER_WORDS)
        start = len(" ".join(words[:first])) + (1 if first else 0)
        offsets.setdefault(words[first].strip(".':"), set()).add(start)
    return {word: tuple(sorted(found)) for word, found in offsets.items()}


# "my name is": "name" starts 3 characters into it; the engine tries the cue pattern only
# there, before the trigger words a text holds, instead of scanning the text with it.
NAME_CUE_OFFSETS = _cue_offsets(sorted(set(NAME_CUE_PHRASES) | set(LOOSE_CUE_PHRASES)))
