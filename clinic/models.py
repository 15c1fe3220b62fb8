"""The practice domain: the tenant (Practice), its staff, providers, patients and appointments.

Invariants:
- Every row here belongs to exactly one Practice, reachable as `practice_id`; the admin and
  every selector scope on it.
- Patient PHI columns and Appointment.reason are encrypted fields (phi.fields) bound to the
  row's UUID pk and its practice; they are nullable so `patient_phi_erase` can remove PHI
  while keeping the row (and the audit trail that names it).
- Patient blind-index columns always match the plaintext: `save()` recomputes them, so no
  write path (service, admin, bulk seeding through `refresh_blind_indexes`) can leave them stale.
- Phone numbers are stored in E.164 form only.
- A provider is never double-booked: `Appointment.clean` checks overlaps, and
  `appointment_book` / `appointment_reschedule` lock the provider row first so two concurrent
  bookings cannot both pass the check.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from clinic import errors
from clinic.roles import Role
from clinic.validators import (
    normalize_e164,
    validate_date_of_birth,
    validate_opening_hours,
    validate_timezone,
)
from phi.crypto.blind_index import blind_index
from phi.crypto.normalize import identity_value, normalize_mrn
from phi.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedEmailField,
    EncryptedTextField,
)


class BlindIndexKind(models.TextChoices):
    """Kinds of patient blind index; the kind is part of the HMAC input, so they never collide."""

    LAST_NAME_DOB = "patient.last_name_dob", "Last name + date of birth"
    PHONE = "patient.phone", "Phone"
    MRN = "patient.mrn", "MRN"


def last_name_dob_value(last_name: str, date_of_birth: dt.date) -> str:
    """The normalised input of the last-name + date-of-birth blind index."""
    return identity_value(last_name=last_name, date_of_birth=date_of_birth)


def patient_blind_index(*, practice_id: uuid.UUID | str, kind: BlindIndexKind, value: str) -> str:
    """The blind index of an already-normalised value for one practice."""
    return blind_index(scope_id=practice_id, kind=kind.value, value=value)


class E164PhoneField(models.CharField):
    """A phone number normalised to E.164 on validation ("(201) 555-0123" -> "+12015550123")."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 16)  # E.164: "+" and at most 15 digits
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        """Normalise; raise the phone ValidationError on garbage."""
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        return normalize_e164(value)


def default_opening_hours() -> dict[str, list[list[str]]]:
    """Mon-Fri 08:00-12:00 and 13:00-17:00."""
    weekday = [["08:00", "12:00"], ["13:00", "17:00"]]
    return dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday)


class Practice(models.Model):
    """A medical practice: the tenant every other clinic row belongs to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True, help_text="Short stable identifier, e.g. maple-street.")
    timezone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_timezone]
    )
    main_phone = E164PhoneField(
        "main phone line", help_text="Callers are transferred here when the receptionist hands off."
    )
    address = models.TextField(blank=True)
    opening_hours = models.JSONField(
        default=default_opening_hours,
        validators=[validate_opening_hours],
        help_text='Weekday -> [[open, close], ...] in local time, e.g. {"mon": [["08:00", "17:00"]]}.',
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def practice_id(self) -> uuid.UUID:
        """A practice is its own scope (uniform with the rows that belong to it)."""
        return self.pk


class StaffMembership(models.Model):
    """A user works at a practice in one role."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, related_name="staff_memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["practice__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "practice"],
                name="clinic_staff_one_role_per_practice",
                violation_error_message="This user already has a role at this practice.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.get_role_display()} at {self.practice}"


class Provider(models.Model):
    """A clinician patients book appointments with (staff data, not PHI)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="providers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="provider_profiles",
    )
    title = models.CharField(max_length=20, blank=True, help_text="e.g. Dr., NP")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    specialty = models.CharField(max_length=100, blank=True)
    slot_minutes = models.PositiveSmallIntegerField(
        default=30, help_text="Length of one bookable slot."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return " ".join(part for part in (self.title, self.first_name, self.last_name) if part)


class Patient(models.Model):
    """A patient of one practice; every identifying column is encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="patients")
    first_name = EncryptedCharField(max_length=100, null=True)
    last_name = EncryptedCharField(max_length=100, null=True)
    date_of_birth = EncryptedDateField(null=True)
    # Room for typed forms like "+1 (415) 555-0123"; the stored value is E.164.
    phone = EncryptedCharField(max_length=32, null=True, blank=True)
    email = EncryptedEmailField(null=True, blank=True)
    address = EncryptedTextField(null=True, blank=True)
    mrn = EncryptedCharField("MRN", max_length=32, null=True, blank=True)
    insurance_member_id = EncryptedCharField(max_length=64, null=True, blank=True)
    notes = EncryptedTextField(null=True, blank=True)
    # HMAC-SHA256 of the normalised plaintext under the practice's index key ("" when empty).
    last_name_dob_bidx = models.CharField(max_length=64, blank=True, default="", editable=False)
    phone_bidx = models.CharField(max_length=64, blank=True, default="", editable=False)
    mrn_bidx = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    phi_erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("view_patient_phi", "Can see patient PHI in clear")]
        indexes = [
            models.Index(fields=["practice", "-created_at"], name="clinic_patient_recent"),
            models.Index(fields=["practice", "last_name_dob_bidx"], name="clinic_patient_lndob"),
            models.Index(fields=["practice", "phone_bidx"], name="clinic_patient_phone"),
            models.Index(fields=["practice", "mrn_bidx"], name="clinic_patient_mrn"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "mrn_bidx"],
                condition=~Q(mrn_bidx=""),
                name="clinic_patient_unique_mrn",
                violation_error_message=errors.MRN_TAKEN,
            )
        ]

    def __str__(self) -> str:
        # No PHI: str() ends up in admin titles, django_admin_log.object_repr (plaintext at
        # rest), error messages and logs. Names are shown explicitly where a role allows it.
        erased = " (erased)" if self.phi_erased_at else ""
        return f"Patient {str(self.pk)[:8]}{erased}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save with blind indexes recomputed from the plaintext."""
        self.refresh_blind_indexes()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {
                *update_fields,
                "last_name_dob_bidx",
                "phone_bidx",
                "mrn_bidx",
            }
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """Normalise the phone, check the date of birth, refresh the blind indexes."""
        problems: dict[str, str] = {}
        if self.date_of_birth:
            try:
                validate_date_of_birth(self.date_of_birth, today=timezone.localdate())
            except ValidationError as exc:
                problems["date_of_birth"] = exc.messages[0]
        if self.phone:
            try:
                self.phone = normalize_e164(self.phone)
            except ValidationError as exc:
                problems["phone"] = exc.messages[0]
        if self.mrn:
            self.mrn = self.mrn.strip()
        if problems:
            raise ValidationError(problems)
        self.refresh_blind_indexes()

    def full_name(self) -> str:
        """ "Last, First" in clear (decrypts); for displays that checked the viewer may see PHI."""
        if self.phi_erased_at:
            return str(self)
        return f"{self.last_name}, {self.first_name}"

    def refresh_blind_indexes(self) -> None:
        """Recompute the blind-index columns from the current plaintext."""
        practice_id = self.practice_id
        if self.last_name and self.date_of_birth:
            self.last_name_dob_bidx = patient_blind_index(
                practice_id=practice_id,
                kind=BlindIndexKind.LAST_NAME_DOB,
                value=last_name_dob_value(self.last_name, self.date_of_birth),
            )
        else:
            self.last_name_dob_bidx = ""
        self.phone_bidx = ""
        if self.phone:
            try:
                phone = normalize_e164(self.phone)
            except ValidationError:
                phone = ""  # unvalidated garbage is not indexed; full_clean rejects it
            if phone:
                self.phone_bidx = patient_blind_index(
                    practice_id=practice_id, kind=BlindIndexKind.PHONE, value=phone
                )
        self.mrn_bidx = (
            patient_blind_index(
                practice_id=practice_id, kind=BlindIndexKind.MRN, value=normalize_mrn(self.mrn)
            )
            if self.mrn
            else ""
        )


class AppointmentStatus(models.TextChoices):
    """Where an appointment is in its life."""

    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    CHECKED_IN = "checked_in", "Checked in"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No show"


# A cancelled appointment frees its slot; every other status keeps it.
SLOT_FREEING_STATUSES = (AppointmentStatus.CANCELLED,)
CHANGEABLE_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.CONFIRMED)


class Appointment(models.Model):
    """A patient's appointment with a provider; the reason is PHI (encrypted)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    reason = EncryptedTextField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            models.Index(fields=["provider", "start"], name="clinic_appt_provider_start"),
            models.Index(fields=["practice", "start"], name="clinic_appt_practice_start"),
            models.Index(fields=["patient", "start"], name="clinic_appt_patient_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="clinic_appointment_ends_after_start",
                violation_error_message=errors.APPOINTMENT_END_BEFORE_START,
            )
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} with {self.provider}"

    def clean(self) -> None:
        """End after start, one practice for everything, no overlap with the provider's bookings."""
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": errors.APPOINTMENT_END_BEFORE_START})
        if self.patient_id and self.provider_id and self.practice_id:
            patient_practice = (
                Patient.objects.filter(pk=self.patient_id).values_list("practice_id", flat=True)
            ).first()
            provider_practice = (
                Provider.objects.filter(pk=self.provider_id).values_list("practice_id", flat=True)
            ).first()
            if patient_practice != self.practice_id or provider_practice != self.practice_id:
                raise ValidationError(errors.APPOINTMENT_PRACTICE_MISMATCH)
        if (
            self.start
            and self.end
            and self.provider_id
            and self.status not in SLOT_FREEING_STATUSES
        ):
            clash = (
                Appointment.objects.filter(
                    provider_id=self.provider_id, start__lt=self.end, end__gt=self.start
                )
                .exclude(status__in=SLOT_FREEING_STATUSES)
                .exclude(pk=self.pk)
                .select_related("provider", "practice")
                .first()
            )
            if clash is not None:
                raise ValidationError(
                    errors.APPOINTMENT_DOUBLE_BOOKED.format(
                        provider=clash.provider,
                        start=clash.local_start.strftime("%Y-%m-%d %H:%M"),
                        end=clash.local_end.strftime("%H:%M"),
                    ),
                    code="double_booked",
                )

    @property
    def local_start(self) -> dt.datetime:
        """Start in the practice's time zone."""
        return timezone.localtime(self.start, zoneinfo.ZoneInfo(self.practice.timezone))

    @property
    def local_end(self) -> dt.datetime:
        """End in the practice's time zone."""
        return timezone.localtime(self.end, zoneinfo.ZoneInfo(self.practice.timezone))


class PracticePhoneNumber(models.Model):
    """An inbound number (E.164) that routes calls to a practice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="phone_numbers")
    e164 = E164PhoneField("number", unique=True, error_messages={"unique": errors.NUMBER_TAKEN})
    label = models.CharField(max_length=100, blank=True, help_text="e.g. Main line, After hours")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["e164"]
        verbose_name = "practice phone number"

    def __str__(self) -> str:
        return self.e164
