"""Typed factories for clinic models; every value is obviously synthetic (555-01xx, example.test)."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from clinic.models import (
    Appointment,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
)
from clinic.roles import Role

FAKE_FIRST = ("Ava", "Ben", "Cleo", "Dario", "Edie", "Finn")
FAKE_LAST = ("Testerson", "Sampleton", "Fakeley", "Mockford", "Demoway", "Placeholt")


class UserFactory(factory.django.DjangoModelFactory[get_user_model()]):  # type: ignore[misc]
    """A user with password "pw"."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    @factory.post_generation
    def password(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        self.set_password(extracted or "pw")
        if create:
            self.save(update_fields=["password"])

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")


class PracticeFactory(factory.django.DjangoModelFactory[Practice]):
    """A practice with a 555-01xx main line."""

    class Meta:
        model = Practice

    name = factory.Sequence(lambda n: f"Example Practice {n}")
    slug = factory.Sequence(lambda n: f"example-{n}")
    main_phone = factory.Sequence(lambda n: f"+1201555{100 + n % 100:04d}")
    timezone = "America/New_York"


class StaffMembershipFactory(factory.django.DjangoModelFactory[StaffMembership]):
    """A membership (use services.staff_membership_create when groups matter)."""

    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    role = Role.FRONT_DESK


class ProviderFactory(factory.django.DjangoModelFactory[Provider]):
    """A provider of a practice."""

    class Meta:
        model = Provider

    practice = factory.SubFactory(PracticeFactory)
    title = "Dr."
    first_name = factory.Sequence(lambda n: f"Prov{n}")
    last_name = "Example"
    slot_minutes = 30


class PatientFactory(factory.django.DjangoModelFactory[Patient]):
    """A patient with synthetic PHI (encrypted and blind-indexed on save)."""

    class Meta:
        model = Patient

    practice = factory.SubFactory(PracticeFactory)
    first_name = factory.Sequence(lambda n: FAKE_FIRST[n % len(FAKE_FIRST)])
    last_name = factory.Sequence(lambda n: FAKE_LAST[n % len(FAKE_LAST)])
    date_of_birth = factory.Sequence(lambda n: dt.date(1950, 1, 1) + dt.timedelta(days=97 * n))
    phone = factory.Sequence(lambda n: f"+1415555{100 + n % 100:04d}")
    email = factory.Sequence(lambda n: f"patient{n}@example.test")
    mrn = factory.Sequence(lambda n: f"TEST-{n:05d}")
    insurance_member_id = factory.Sequence(lambda n: f"SYNTH-{n:06d}")
    notes = "Synthetic test patient."


class AppointmentFactory(factory.django.DjangoModelFactory[Appointment]):
    """An appointment tomorrow at a sequence-spread time, with patient and provider of one practice."""

    class Meta:
        model = Appointment

    practice = factory.SubFactory(PracticeFactory)
    patient = factory.SubFactory(PatientFactory, practice=factory.SelfAttribute("..practice"))
    provider = factory.SubFactory(ProviderFactory, practice=factory.SelfAttribute("..practice"))
    start = factory.Sequence(
        lambda n: timezone.now().replace(microsecond=0, second=0) + dt.timedelta(days=1, hours=n)
    )
    end = factory.LazyAttribute(lambda a: a.start + dt.timedelta(minutes=30))
    reason = "Synthetic check-up"


class PracticePhoneNumberFactory(factory.django.DjangoModelFactory[PracticePhoneNumber]):
    """An inbound number routed to a practice."""

    class Meta:
        model = PracticePhoneNumber

    practice = factory.SubFactory(PracticeFactory)
    e164 = factory.Sequence(lambda n: f"+1312555{100 + n % 100:04d}")
    label = "Main line"
