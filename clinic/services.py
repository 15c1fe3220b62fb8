"""Writes of the practice domain: every change goes through a function here.

Invariants:
- Each service is keyword-only, takes `actor` with no default (None means "the system, on
  purpose"), runs `full_clean()` before saving and is atomic, so a write and its audit events
  commit or roll back together.
- Auditing: clinic models are registered with `audit.registry` (clinic/apps.py), so every
  save/delete is recorded with the changed field names; services run that save inside
  `audit_context(actor=actor)` so the event names the service's actor, not whoever the
  surrounding request happens to be. Business actions that are more than a field change
  (cancel, reschedule, PHI erase) add their own event; role-group changes are recorded by
  audit's m2m receivers.
- Appointment writes lock the provider row (SELECT ... FOR UPDATE) before the overlap check,
  so two concurrent bookings of one slot cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actions import AuditAction
from audit.context import audit_context
from audit.services import audit_record
from clinic import errors
from clinic.models import (
    CHANGEABLE_STATUSES,
    Appointment,
    AppointmentStatus,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
)
from clinic.roles import GROUP_NAMES, Role
from clinic.signals import patient_phi_erased

PATIENT_PHI_FIELDS = (
    "first_name",
    "last_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "mrn",
    "insurance_member_id",
    "notes",
)
PATIENT_EDITABLE_FIELDS = PATIENT_PHI_FIELDS


@contextmanager
def _acting(actor: Any) -> Iterator[None]:
    # The registry's signal handlers read the actor from the audit context.
    with audit_context(actor=actor):
        yield


def _save(obj: Any, actor: Any, **kwargs: Any) -> None:
    obj.full_clean()
    with _acting(actor):
        obj.save(**kwargs)


# --- practices and staff -----------------------------------------------------------------------


@transaction.atomic
def practice_create(
    *,
    actor: Any,
    name: str,
    slug: str,
    main_phone: str,
    timezone_name: str = "America/New_York",
    address: str = "",
    opening_hours: dict | None = None,
) -> Practice:
    """Create a practice (a new tenant)."""
    practice = Practice(
        name=name, slug=slug, main_phone=main_phone, timezone=timezone_name, address=address
    )
    if opening_hours is not None:
        practice.opening_hours = opening_hours
    _save(practice, actor)
    return practice


def _apply_changes(obj: Any, changes: dict[str, Any], *, allowed: set[str], service: str) -> None:
    """Set the requested fields on obj; a field the service may not change is a TypeError."""
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"{service} cannot change {sorted(unknown)}; allowed: {sorted(allowed)}")
    for name, value in changes.items():
        setattr(obj, name, value)


@transaction.atomic
def practice_update(*, actor: Any, practice: Practice, **changes: Any) -> Practice:
    """Change a practice's name, phone line, time zone, address or opening hours."""
    _apply_changes(
        practice,
        changes,
        allowed={"name", "main_phone", "timezone", "address", "opening_hours"},
        service="practice_update",
    )
    _save(practice, actor)
    return practice


def _sync_role_groups(user: Any, actor: Any) -> None:
    # Django permissions are per user: the user is in the group of every role held anywhere.
    # (Group changes are recorded by audit's m2m receivers, under the actor set here.)
    roles = set(StaffMembership.objects.filter(user=user).values_list("role", flat=True))
    wanted = {GROUP_NAMES[Role(role)] for role in roles}
    role_groups = Group.objects.filter(name__in=GROUP_NAMES.values())
    current = set(user.groups.filter(pk__in=role_groups).values_list("name", flat=True))
    if current == wanted:
        return
    with _acting(actor):
        user.groups.remove(*[g for g in role_groups if g.name in current - wanted])
        user.groups.add(*[g for g in role_groups if g.name in wanted - current])
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)


def _forget_cached_scope(user: Any) -> None:
    for attr in ("_clinic_roles",):
        user.__dict__.pop(attr, None)


@transaction.atomic
def staff_membership_create(
    *, actor: Any, user: Any, practice: Practice, role: Role | str
) -> StaffMembership:
    """Give a user a role at a practice (and the matching group); the user becomes staff."""
    membership = StaffMembership(user=user, practice=practice, role=Role(role))
    _save(membership, actor)
    if not user.is_staff:
        user.is_staff = True  # the admin is the staff UI; without it they cannot log in there
        with _acting(actor):
            user.save(update_fields=["is_staff"])
    _sync_role_groups(user, actor)
    _forget_cached_scope(user)
    return membership


@transaction.atomic
def staff_membership_update(
    *, actor: Any, membership: StaffMembership, role: Role | str
) -> StaffMembership:
    """Change a user's role at a practice."""
    membership.role = Role(role)
    _save(membership, actor)
    _sync_role_groups(membership.user, actor)
    _forget_cached_scope(membership.user)
    return membership


@transaction.atomic
def staff_membership_delete(*, actor: Any, membership: StaffMembership) -> None:
    """Remove a user's role at a practice (their access to it ends now)."""
    user = membership.user
    with _acting(actor):
        membership.delete()
    _sync_role_groups(user, actor)
    _forget_cached_scope(user)


@transaction.atomic
def practice_phone_number_create(
    *, actor: Any, practice: Practice, e164: str, label: str = ""
) -> PracticePhoneNumber:
    """Route an inbound number to a practice."""
    number = PracticePhoneNumber(practice=practice, e164=e164, label=label)
    _save(number, actor)
    return number


@transaction.atomic
def provider_create(
    *,
    actor: Any,
    practice: Practice,
    first_name: str,
    last_name: str,
    title: str = "",
    specialty: str = "",
    slot_minutes: int = 30,
    user: Any = None,
) -> Provider:
    """Add a provider to a practice."""
    provider = Provider(
        practice=practice,
        first_name=first_name,
        last_name=last_name,
        title=title,
        specialty=specialty,
        slot_minutes=slot_minutes,
        user=user,
    )
    _save(provider, actor)
    return provider


@transaction.atomic
def provider_update(*, actor: Any, provider: Provider, **changes: Any) -> Provider:
    """Change a provider's name, title, specialty, slot length, user or active flag."""
    _apply_changes(
        provider,
        changes,
        allowed={"first_name", "last_name", "title", "specialty", "slot_minutes", "user", "active"},
        service="provider_update",
    )
    _save(provider, actor)
    return provider


@transaction.atomic
def practice_phone_number_update(
    *, actor: Any, number: PracticePhoneNumber, **changes: Any
) -> PracticePhoneNumber:
    """Change an inbound number's label, number or active flag (never its practice)."""
    _apply_changes(
        number, changes, allowed={"e164", "label", "active"}, service="practice_phone_number_update"
    )
    _save(number, actor)
    return number


# --- patients ---------------------------------------------------------------------------------


@transaction.atomic
def patient_create(
    *,
    actor: Any,
    practice: Practice,
    first_name: str,
    last_name: str,
    date_of_birth: dt.date,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    mrn: str | None = None,
    insurance_member_id: str | None = None,
    notes: str | None = None,
) -> Patient:
    """Register a patient; PHI is encrypted and blind-indexed on save."""
    patient = Patient(
        practice=practice,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        phone=phone or None,
        email=email or None,
        address=address or None,
        mrn=mrn or None,
        insurance_member_id=insurance_member_id or None,
        notes=notes or None,
    )
    _save(patient, actor)
    return patient


@transaction.atomic
def patient_update(*, actor: Any, patient: Patient, **changes: Any) -> Patient:
    """Change a patient's details (PHI fields only; the practice never changes)."""
    if patient.phi_erased_at is not None:
        raise ValidationError("This patient's PHI was erased; register the patient again instead.")
    # An emptied PHI field is stored as NULL, not as an encrypted empty string.
    cleared = {name: (value if value != "" else None) for name, value in changes.items()}
    _apply_changes(patient, cleared, allowed=set(PATIENT_EDITABLE_FIELDS), service="patient_update")
    _save(patient, actor)
    return patient


@transaction.atomic
def patient_phi_erase(*, actor: Any, patient: Patient, reason: str) -> Patient:
    """Remove a patient's PHI (every encrypted field and blind index); keep the row and its history."""
    for name in PATIENT_PHI_FIELDS:
        setattr(patient, name, None)
    patient.phi_erased_at = timezone.now()
    # No full_clean: an erased patient deliberately lacks the required name and birth date.
    with _acting(actor):
        patient.save()
    # Appointment reasons are PHI too.
    for appointment in patient.appointments.exclude(reason=None):
        appointment.reason = None
        with _acting(actor):
            appointment.save(update_fields=["reason", "updated_at"])
    # Other apps erase what they hold about the patient, in this same transaction.
    patient_phi_erased.send(sender=Patient, patient=patient, actor=actor)
    audit_record(
        action=AuditAction.PATIENT_PHI_ERASE,
        actor=actor,
        resource_type="clinic.patient",
        resource_id=patient.pk,
        practice_id=patient.practice_id,
        detail={"fields": list(PATIENT_PHI_FIELDS), "reason_given": bool(reason.strip())},
    )
    return patient


# --- appointments -----------------------------------------------------------------------------


def _lock_provider(provider: Provider) -> None:
    # Serialises bookings per provider: the overlap check and the insert happen under this lock.
    Provider.objects.select_for_update().filter(pk=provider.pk).first()


@transaction.atomic
def appointment_book(
    *,
    actor: Any,
    patient: Patient,
    provider: Provider,
    start: dt.datetime,
    end: dt.datetime | None = None,
    reason: str | None = None,
) -> Appointment:
    """Book a patient with a provider; end defaults to one slot after start."""
    _lock_provider(provider)
    appointment = Appointment(
        practice_id=patient.practice_id,
        patient=patient,
        provider=provider,
        start=start,
        end=end or start + dt.timedelta(minutes=provider.slot_minutes),
        reason=reason or None,
    )
    _save(appointment, actor)
    return appointment


def _check_changeable(appointment: Appointment) -> None:
    if appointment.status not in CHANGEABLE_STATUSES:
        raise ValidationError(
            errors.APPOINTMENT_NOT_BOOKABLE.format(status=appointment.get_status_display().lower())
        )


@transaction.atomic
def appointment_cancel(*, actor: Any, appointment: Appointment, reason: str = "") -> Appointment:
    """Cancel an appointment; its slot becomes free."""
    _check_changeable(appointment)
    appointment.status = AppointmentStatus.CANCELLED
    _save(appointment, actor)
    audit_record(
        action=AuditAction.APPOINTMENT_CANCEL,
        actor=actor,
        resource_type="clinic.appointment",
        resource_id=appointment.pk,
        practice_id=appointment.practice_id,
        detail={"patient_id": str(appointment.patient_id), "reason_given": bool(reason.strip())},
    )
    return appointment


@transaction.atomic
def appointment_reschedule(
    *,
    actor: Any,
    appointment: Appointment,
    start: dt.datetime,
    end: dt.datetime | None = None,
    provider: Provider | None = None,
) -> Appointment:
    """Move an appointment to a new time (and optionally another provider of the practice)."""
    _check_changeable(appointment)
    provider = provider or appointment.provider
    _lock_provider(provider)
    length = appointment.end - appointment.start
    previous = (appointment.start, appointment.provider_id)
    appointment.provider = provider
    appointment.start = start
    appointment.end = end or start + length
    _save(appointment, actor)
    audit_record(
        action=AuditAction.APPOINTMENT_RESCHEDULE,
        actor=actor,
        resource_type="clinic.appointment",
        resource_id=appointment.pk,
        practice_id=appointment.practice_id,
        detail={
            "patient_id": str(appointment.patient_id),
            "from_start": previous[0].isoformat(),
            "to_start": appointment.start.isoformat(),
            "provider_changed": previous[1] != provider.pk,
        },
    )
    return appointment


@transaction.atomic
def appointment_update(*, actor: Any, appointment: Appointment, **changes: Any) -> Appointment:
    """Change an appointment's status or reason (times go through appointment_reschedule)."""
    _apply_changes(appointment, changes, allowed={"status", "reason"}, service="appointment_update")
    _save(appointment, actor)
    return appointment
