"""Clinic selectors: scope, blind-index search, identity check, slots and number routing."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from clinic import selectors, services
from clinic.models import AppointmentStatus
from clinic.roles import Role
from tests.clinic.factories import (
    AppointmentFactory,
    PatientFactory,
    PracticeFactory,
    PracticePhoneNumberFactory,
    ProviderFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_practice_ids_for_user_is_memberships_all_for_superuser_none_for_anonymous():
    mine, _other = PracticeFactory(), PracticeFactory()
    user = UserFactory()
    services.staff_membership_create(actor=None, user=user, practice=mine, role=Role.CLINICIAN)
    assert selectors.practice_ids_for_user(user) == [mine.pk]
    assert selectors.practice_ids_for_user(UserFactory(is_superuser=True)) is None
    assert selectors.practice_ids_for_user(AnonymousUser()) == []
    assert selectors.practice_ids_for_user(UserFactory(is_active=False)) == []


def test_patient_list_is_scoped():
    mine = PatientFactory()
    PatientFactory()
    assert list(selectors.patient_list(practice_ids=[mine.practice_id])) == [mine]
    assert selectors.patient_list(practice_ids=[]).count() == 0


@pytest.mark.parametrize(
    "query",
    [
        "Mockford 1980-03-03",
        "mockford 03/03/1980",
        "MOCKFORD, 3/3/1980",
        "(415) 555-0177",
        "+14155550177",
        "mrn-00 42",
        "MRN0042",
    ],
)
def test_patient_search_finds_by_name_and_dob_phone_or_mrn(query):
    patient = PatientFactory(
        last_name="Mockford",
        date_of_birth=dt.date(1980, 3, 3),
        phone="+14155550177",
        mrn="MRN-0042",
    )
    PatientFactory(
        last_name="Mockford", date_of_birth=dt.date(1980, 3, 4), practice=patient.practice
    )
    found = selectors.patient_search(practice_ids=[patient.practice_id], query=query)
    assert list(found) == [patient]


@pytest.mark.parametrize("query", ["Mockford", "1980-03-03", "Mockf 1980-03-03", "", "   "])
def test_patient_search_is_exact_match_only(query):
    patient = PatientFactory(last_name="Mockford", date_of_birth=dt.date(1980, 3, 3))
    assert not selectors.patient_search(practice_ids=[patient.practice_id], query=query).exists()


def test_patient_search_never_crosses_practices():
    theirs = PatientFactory(mrn="X-1")
    mine = PatientFactory(mrn="X-1")
    assert list(selectors.patient_search(practice_ids=[mine.practice_id], query="X-1")) == [mine]
    assert set(selectors.patient_search(practice_ids=None, query="X-1")) == {mine, theirs}


def test_patient_find_by_identity_matches_full_name_and_dob():
    patient = PatientFactory(
        first_name="Zoë", last_name="de la Cruz", date_of_birth=dt.date(1975, 7, 1)
    )
    found = selectors.patient_find_by_identity(
        practice_id=patient.practice_id,
        full_name="zoe De La Cruz",
        date_of_birth=dt.date(1975, 7, 1),
    )
    assert found == patient


@pytest.mark.parametrize(
    ("full_name", "dob"),
    [
        ("Ben de la Cruz", dt.date(1975, 7, 1)),  # wrong first name
        ("Zoe de la Cruz", dt.date(1975, 7, 2)),  # wrong birthday
        ("de la Cruz", dt.date(1975, 7, 1)),  # no first name
        ("Zoe", dt.date(1975, 7, 1)),
    ],
)
def test_patient_find_by_identity_refuses_partial_matches(full_name, dob):
    patient = PatientFactory(
        first_name="Zoe", last_name="de la Cruz", date_of_birth=dt.date(1975, 7, 1)
    )
    assert (
        selectors.patient_find_by_identity(
            practice_id=patient.practice_id, full_name=full_name, date_of_birth=dob
        )
        is None
    )


def test_patient_find_by_identity_refuses_ambiguous_twins_and_other_practices():
    one = PatientFactory(first_name="Ava", last_name="Testerson", date_of_birth=dt.date(2001, 1, 1))
    PatientFactory(
        practice=one.practice,
        first_name="Ava",
        last_name="Testerson",
        date_of_birth=dt.date(2001, 1, 1),
    )
    assert (
        selectors.patient_find_by_identity(
            practice_id=one.practice_id,
            full_name="Ava Testerson",
            date_of_birth=dt.date(2001, 1, 1),
        )
        is None
    )
    assert (
        selectors.patient_find_by_identity(
            practice_id=PracticeFactory().pk,
            full_name="Ava Testerson",
            date_of_birth=dt.date(2001, 1, 1),
        )
        is None
    )


def test_patient_find_by_identity_ignores_erased_patients():
    patient = PatientFactory(
        first_name="Ava", last_name="Testerson", date_of_birth=dt.date(2001, 1, 1)
    )
    services.patient_phi_erase(actor=None, patient=patient, reason="test")
    assert (
        selectors.patient_find_by_identity(
            practice_id=patient.practice_id,
            full_name="Ava Testerson",
            date_of_birth=dt.date(2001, 1, 1),
        )
        is None
    )


def test_appointment_list_for_patient_upcoming_excludes_past_and_cancelled():
    upcoming = AppointmentFactory()
    practice, patient, provider = upcoming.practice, upcoming.patient, upcoming.provider
    AppointmentFactory(
        practice=practice,
        patient=patient,
        provider=provider,
        start=timezone.now() - dt.timedelta(days=3),
        status=AppointmentStatus.COMPLETED,
    )
    AppointmentFactory(
        practice=practice, patient=patient, provider=provider, status=AppointmentStatus.CANCELLED
    )
    listed = selectors.appointment_list_for_patient(practice_id=practice.pk, patient_id=patient.pk)
    assert list(listed) == [upcoming]
    everything = selectors.appointment_list_for_patient(
        practice_id=practice.pk, patient_id=patient.pk, upcoming_only=False
    )
    assert everything.count() == 3
    other = selectors.appointment_list_for_patient(
        practice_id=PracticeFactory().pk, patient_id=patient.pk
    )
    assert not other.exists()


def _next_weekday(zone: zoneinfo.ZoneInfo, weekday: int) -> dt.date:
    day = timezone.localdate(timezone=zone) + dt.timedelta(days=1)
    while day.weekday() != weekday:
        day += dt.timedelta(days=1)
    return day


def test_open_slots_follow_opening_hours_and_skip_booked_times():
    practice = PracticeFactory(opening_hours={"mon": [["09:00", "10:00"]]})
    provider = ProviderFactory(practice=practice, slot_minutes=30)
    zone = zoneinfo.ZoneInfo(practice.timezone)
    monday = _next_weekday(zone, 0)
    nine = dt.datetime.combine(monday, dt.time(9), tzinfo=zone)
    AppointmentFactory(
        practice=practice, provider=provider, start=nine, end=nine + dt.timedelta(minutes=30)
    )
    slots = selectors.open_slots(
        practice_id=practice.pk,
        start=nine - dt.timedelta(days=1),
        end=nine + dt.timedelta(days=6),
    )
    assert [(p, s) for p, s, _ in slots] == [(provider, nine + dt.timedelta(minutes=30))]


def test_open_slots_can_be_limited_to_one_provider():
    practice = PracticeFactory(opening_hours={"tue": [["09:00", "10:00"]]})
    wanted = ProviderFactory(practice=practice)
    ProviderFactory(practice=practice)
    zone = zoneinfo.ZoneInfo(practice.timezone)
    tuesday = dt.datetime.combine(_next_weekday(zone, 1), dt.time(0), tzinfo=zone)
    slots = selectors.open_slots(
        practice_id=practice.pk,
        provider_id=wanted.pk,
        start=tuesday,
        end=tuesday + dt.timedelta(days=1),
    )
    assert len(slots) == 2
    assert {p for p, _, _ in slots} == {wanted}


def test_practice_for_number_routes_known_active_numbers_only():
    number = PracticePhoneNumberFactory(e164="+13125550150")
    PracticePhoneNumberFactory(e164="+13125550151", active=False)
    assert selectors.practice_for_number(e164="+1 312 555 0150") == number.practice
    assert selectors.practice_for_number(e164="+13125550151") is None
    assert selectors.practice_for_number(e164="+13125550152") is None
    assert selectors.practice_for_number(e164="garbage") is None
