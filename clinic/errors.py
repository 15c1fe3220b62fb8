"""Clinic errors and the validation messages users see.

Messages are constants so forms, services and tests share one wording. Each names the rule and,
where it helps, what a valid value looks like.
"""


class ClinicError(Exception):
    """Base class for clinic errors."""


class NotAStaffMemberError(ClinicError):
    """The actor has no membership in the practice the action touches."""


class SlotUnavailableError(ClinicError):
    """The requested appointment time collides with another booking."""


DOB_IN_FUTURE = "Date of birth cannot be in the future."
DOB_TOO_OLD = "Date of birth is more than 130 years ago; check the year."
PHONE_INVALID = "Enter a valid phone number, e.g. +1 201 555 0123 (stored as E.164: +12015550123)."
APPOINTMENT_END_BEFORE_START = "The appointment must end after it starts."
APPOINTMENT_DOUBLE_BOOKED = "{provider} already has an appointment from {start} to {end}."
APPOINTMENT_PRACTICE_MISMATCH = (
    "Patient, provider and appointment must belong to the same practice."
)
APPOINTMENT_NOT_BOOKABLE = (
    "Only booked or confirmed appointments can be changed; this one is {status}."
)
TIMEZONE_INVALID = "Unknown time zone {value!r}; use an IANA name such as America/New_York."
OPENING_HOURS_INVALID = 'Opening hours map weekdays to intervals, e.g. {{"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}}: {problem}'
MRN_TAKEN = "Another patient of this practice already has this MRN."
NUMBER_TAKEN = "This number already routes to a practice."
