"""Reads of the practice domain, always within a scope.

Invariant: every selector takes the practices it may read (`practice_ids`, or one
`practice_id`); there is no unscoped variant to call by mistake. `practice_ids_for_user`
turns a user into that scope: None means "every practice" and is returned for superusers only.
Searches over PHI never touch plaintext in SQL: they compare blind indexes (exact match).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.models import (
    SLOT_FREEING_STATUSES,
    Appointment,
    BlindIndexKind,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
    last_name_dob_value,
    patient_blind_index,
)
from clinic.roles import Role
from clinic.validators import WEEKDAYS, parse_opening_hours
from phi.crypto.normalize import normalize_mrn, normalize_name, normalize_phone

PracticeIds = Iterable[uuid.UUID | str] | None

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("m", "d", "y")),  # US order
)


def practice_ids_for_user(user: Any) -> list[uuid.UUID] | None:
    """The practices a user may see: None (all) for superusers, else their memberships."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    return list(roles_for_user(user))


def roles_for_user(user: Any) -> dict[uuid.UUID, Role]:
    """The user's role in each of their practices (one query, then cached on the user object)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, "_clinic_roles", None)
    if cached is None:
        cached = {
            practice_id: Role(role)
            for practice_id, role in StaffMembership.objects.filter(user=user).values_list(
                "practice_id", "role"
            )
        }
        user._clinic_roles = cached  # one query per request, not one per row
    return cached


def _scoped(qs: QuerySet, practice_ids: PracticeIds, field: str = "practice_id") -> QuerySet:
    if practice_ids is None:
        return qs
    return qs.filter(**{f"{field}__in": list(practice_ids)})


def practice_list(*, practice_ids: PracticeIds) -> QuerySet[Practice]:
    """Practices in scope."""
    return _scoped(Practice.objects.all(), practice_ids, field="pk")


def provider_list(*, practice_ids: PracticeIds, active_only: bool = False) -> QuerySet[Provider]:
    """Providers of the practices in scope."""
    qs = _scoped(Provider.objects.select_related("practice"), practice_ids)
    return qs.filter(active=True) if active_only else qs


def patient_list(*, practice_ids: PracticeIds) -> QuerySet[Patient]:
    """Patients of the practices in scope, newest first."""
    return _scoped(Patient.objects.select_related("practice"), practice_ids)


def appointment_list(*, practice_ids: PracticeIds) -> QuerySet[Appointment]:
    """Appointments of the practices in scope, with practice, patient and provider joined."""
    return _scoped(
        Appointment.objects.select_related("practice", "patient", "provider"), practice_ids
    )


def _parse_date(text: str) -> dt.date | None:
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return None
    return None


def patient_search_conditions(*, practice_id: uuid.UUID | str, query: str) -> Q | None:
    """The blind-index condition a search term means for one practice, or None if it means none.

    Understood: "lastname 1980-03-03", "lastname 03/03/1980" (also "last, name ..."), a phone
    number in any common form, or an MRN. Everything is exact match on normalised values.
    """
    text = " ".join(query.split())
    if not text:
        return None
    conditions = Q()
    matched = False
    head, _, tail = text.rpartition(" ")
    date_of_birth = _parse_date(tail) if head else None
    if date_of_birth is not None and normalize_name(head.rstrip(",")):
        value = last_name_dob_value(head.rstrip(","), date_of_birth)
        conditions |= Q(
            last_name_dob_bidx=patient_blind_index(
                practice_id=practice_id, kind=BlindIndexKind.LAST_NAME_DOB, value=value
            )
        )
        matched = True
    try:
        phone = normalize_phone(text)
    except (ValueError, TypeError):
        phone = None
    if phone:
        conditions |= Q(
            phone_bidx=patient_blind_index(
                practice_id=practice_id, kind=BlindIndexKind.PHONE, value=phone
            )
        )
        matched = True
    mrn = normalize_mrn(text)
    if mrn and date_of_birth is None:
        conditions |= Q(
            mrn_bidx=patient_blind_index(
                practice_id=practice_id, kind=BlindIndexKind.MRN, value=mrn
            )
        )
        matched = True
    return conditions if matched else None


def patient_search(*, practice_ids: PracticeIds, query: str) -> QuerySet[Patient]:
    """Patients in scope whose last name + DOB, phone or MRN equals the query (blind index)."""
    scope = (
        list(practice_ids)
        if practice_ids is not None
        else list(Practice.objects.values_list("pk", flat=True))
    )
    # Each practice has its own index key, so the condition is built per practice.
    combined = Q(pk__in=[])
    for practice_id in scope:
        condition = patient_search_conditions(practice_id=practice_id, query=query)
        if condition is not None:
            combined |= Q(practice_id=practice_id) & condition
    # No ORDER BY: with one, SQLite may walk the (practice, created_at) index instead of the
    # blind-index one; a search returns a handful of rows.
    return Patient.objects.select_related("practice").filter(combined).order_by()


def patient_find_by_identity(
    *, practice_id: uuid.UUID | str, full_name: str, date_of_birth: dt.date
) -> Patient | None:
    """The one patient whose full name and date of birth match, or None (never a guess)."""
    words = [w for w in (normalize_name(part) for part in full_name.split()) if w]
    if len(words) < 2:  # first and last name are both required
        return None
    matches: list[Patient] = []
    # The last name may have several words ("de la Cruz"): try every split point.
    for split in range(1, len(words)):
        first, last = "".join(words[:split]), "".join(words[split:])
        bidx = patient_blind_index(
            practice_id=practice_id,
            kind=BlindIndexKind.LAST_NAME_DOB,
            value=last_name_dob_value(last, date_of_birth),
        )
        for patient in Patient.objects.filter(
            practice_id=practice_id, last_name_dob_bidx=bidx, phi_erased_at__isnull=True
        ).order_by():  # no ORDER BY: keeps SQLite on the blind-index index
            if normalize_name(patient.first_name or "") == first and patient not in matches:
                matches.append(patient)
    # Two patients sharing name and birthday cannot be told apart by this check: refuse.
    return matches[0] if len(matches) == 1 else None


def appointment_list_for_patient(
    *, practice_id: uuid.UUID | str, patient_id: uuid.UUID | str, upcoming_only: bool = True
) -> QuerySet[Appointment]:
    """A patient's appointments at one practice, soonest first; upcoming and not cancelled by default."""
    qs = appointment_list(practice_ids=[practice_id]).filter(patient_id=patient_id)
    if upcoming_only:
        qs = qs.filter(end__gte=timezone.now()).exclude(status__in=SLOT_FREEING_STATUSES)
    return qs.order_by("start")


def open_slots(
    *,
    practice_id: uuid.UUID | str,
    provider_id: uuid.UUID | str | None = None,
    start: dt.datetime,
    end: dt.datetime,
    limit: int | None = None,
) -> list[tuple[Provider, dt.datetime, dt.datetime]]:
    """Free (provider, start, end) slots between start and end, within opening hours, in time order."""
    practice = Practice.objects.get(pk=practice_id)
    zone = zoneinfo.ZoneInfo(practice.timezone)
    hours = parse_opening_hours(practice.opening_hours)
    now = timezone.now()
    start = max(start, now)
    providers = provider_list(practice_ids=[practice_id], active_only=True)
    if provider_id is not None:
        providers = providers.filter(pk=provider_id)
    providers = list(providers)
    busy: dict[uuid.UUID, list[tuple[dt.datetime, dt.datetime]]] = {p.pk: [] for p in providers}
    for provider_pk, busy_start, busy_end in (
        Appointment.objects.filter(provider__in=providers, start__lt=end, end__gt=start)
        .exclude(status__in=SLOT_FREEING_STATUSES)
        .values_list("provider_id", "start", "end")
    ):
        busy[provider_pk].append((busy_start, busy_end))

    slots: list[tuple[Provider, dt.datetime, dt.datetime]] = []
    day = timezone.localtime(start, zone).date()
    last_day = timezone.localtime(end, zone).date()
    while day <= last_day:
        for open_time, close_time in hours.get(WEEKDAYS[day.weekday()], []):
            window_start = dt.datetime.combine(day, open_time, tzinfo=zone)
            window_end = dt.datetime.combine(day, close_time, tzinfo=zone)
            for provider in providers:
                length = dt.timedelta(minutes=provider.slot_minutes)
                slot_start = window_start
                while slot_start + length <= window_end:
                    slot_end = slot_start + length
                    if (
                        slot_start >= start
                        and slot_end <= end
                        and not any(
                            b_start < slot_end and b_end > slot_start
                            for b_start, b_end in busy[provider.pk]
                        )
                    ):
                        slots.append((provider, slot_start, slot_end))
                    slot_start = slot_end
        day += dt.timedelta(days=1)
    slots.sort(key=lambda slot: (slot[1], str(slot[0])))
    return slots[:limit] if limit is not None else slots


def practice_for_number(*, e164: str) -> Practice | None:
    """The practice an inbound number routes to, or None if the number is unknown or inactive."""
    try:
        number = normalize_phone(e164)
    except (ValueError, TypeError):
        return None
    row = (
        PracticePhoneNumber.objects.select_related("practice")
        .filter(e164=number, active=True)
        .first()
    )
    return row.practice if row is not None else None
