"""`manage.py seed_demo [--patients N]`: two demo practices with staff, providers, patients, appointments.

Idempotent and resumable: everything is keyed by a stable identifier (practice slug, username,
patient MRN "DEMO-000001"), existing rows are left alone, and patients are written in small
transactions, so a second run (or a run after an interruption) ends with the same counts.
All data is obviously synthetic: made-up surnames, 555-01xx numbers, example.test addresses.
Writes go through clinic.services as the system actor, so the audit trail records them.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from clinic import services
from clinic.models import (
    Appointment,
    AppointmentStatus,
    BlindIndexKind,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
    patient_blind_index,
)
from clinic.roles import Role
from clinic.validators import WEEKDAYS, parse_opening_hours
from phi.crypto.normalize import normalize_mrn

DEMO_PASSWORD = "clarion-demo-2026"  # noqa: S105 - printed on purpose: demo users only
BATCH_SIZE = 50
APPOINTMENT_WINDOW_DAYS = 14

FIRST_NAMES = (
    "Ava", "Ben", "Cleo", "Dario", "Edie", "Finn", "Gia", "Hugo", "Iris", "Jonah",
    "Kira", "Leo", "Maya", "Nico", "Opal", "Pax", "Quinn", "Rosa", "Sami", "Tess",
)  # fmt: skip
# Made-up surnames, so nobody mistakes a demo row for a real person.
LAST_NAMES = (
    "Testerson", "Sampleton", "Fakeley", "Mockford", "Demoway", "Placeholt", "Dummington",
    "Examplar", "Fictiona", "Synthwick", "Notreal", "Pretendo", "Madeupski", "Stubbins",
)  # fmt: skip
AREA_CODES = ("201", "212", "415", "617", "312", "503", "702", "808", "907", "646")
REASONS = ("Annual check-up", "Follow-up visit", "Flu shot", "Lab results review", "Sore throat")


@dataclass(frozen=True)
class DemoPractice:
    """One demo practice and its fixed people."""

    slug: str
    name: str
    timezone: str
    main_phone: str
    inbound: str
    providers: tuple[tuple[str, str, str, str], ...]  # title, first, last, specialty


DEMO_PRACTICES = (
    DemoPractice(
        slug="demo-maple",
        name="Maple Street Family Practice (demo)",
        timezone="America/New_York",
        main_phone="+12015550100",
        inbound="+12015550199",
        providers=(
            ("Dr.", "Ada", "Example", "Family medicine"),
            ("Dr.", "Sam", "Sample", "Internal medicine"),
            ("NP", "Robin", "Placeholder", "Nurse practitioner"),
        ),
    ),
    DemoPractice(
        slug="demo-harbor",
        name="Harbor View Pediatrics (demo)",
        timezone="America/Los_Angeles",
        main_phone="+14155550100",
        inbound="+14155550199",
        providers=(
            ("Dr.", "Lee", "Fictitious", "Pediatrics"),
            ("Dr.", "Kim", "Madeup", "Pediatrics"),
        ),
    ),
)
ROLE_USERNAME = {
    Role.FRONT_DESK: "frontdesk",
    Role.CLINICIAN: "clinician",
    Role.PRACTICE_ADMIN: "admin",
    Role.COMPLIANCE_OFFICER: "compliance",
}
SUPERUSER_NAME = "demo-superuser"


def demo_mrn(number: int) -> str:
    """The MRN of the n-th demo patient (1-based); stable, so reruns find existing rows."""
    return f"DEMO-{number:06d}"


def demo_patient_fields(number: int) -> dict[str, Any]:
    """Synthetic, deterministic PHI for the n-th demo patient."""
    rng = random.Random(number)  # noqa: S311 - synthetic demo data, not security
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    return {
        "first_name": first,
        "last_name": last,
        "date_of_birth": dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(80 * 365)),
        # 555-0100..0199 are reserved for fiction in the North American numbering plan.
        "phone": f"+1{rng.choice(AREA_CODES)}5550{100 + number % 100}",
        "email": f"{first.lower()}.{last.lower()}{number}@example.test",
        "address": f"{number} Nowhere Lane, Springfield",
        "mrn": demo_mrn(number),
        "insurance_member_id": f"SYNTH-{rng.randrange(10**8):08d}",
        "notes": "Synthetic demo patient.",
    }


class Command(BaseCommand):
    """Load the demo practices; print the admin URL and the demo logins."""

    help = __doc__

    def add_arguments(self, parser: CommandParser) -> None:
        """--patients N (default 200) and --allow-non-debug."""
        parser.add_argument(
            "--patients", type=int, default=200, help="synthetic patients in total (default 200)"
        )
        parser.add_argument(
            "--allow-non-debug",
            action="store_true",
            help="seed even with DEBUG off (never on a production database: demo passwords are public)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Seed everything; each step skips what exists."""
        if not settings.DEBUG and not options["allow_non_debug"]:
            raise CommandError(
                "seed_demo creates users with published passwords, so it runs only with "
                "DEBUG on (make run). Pass --allow-non-debug for a throwaway database."
            )
        total = options["patients"]
        if total < 0:
            raise CommandError("--patients must be 0 or more.")
        practices = [self._practice(spec) for spec in DEMO_PRACTICES]
        self._staff(practices)
        self._patients(practices, total)
        self._summary(practices)

    # -- steps -----------------------------------------------------------------------------
    @transaction.atomic
    def _practice(self, spec: DemoPractice) -> Practice:
        practice = Practice.objects.filter(slug=spec.slug).first()
        if practice is None:
            practice = services.practice_create(
                actor=None,
                name=spec.name,
                slug=spec.slug,
                main_phone=spec.main_phone,
                timezone_name=spec.timezone,
                address="1 Example Plaza, Springfield",
            )
        if not PracticePhoneNumber.objects.filter(e164=spec.inbound).exists():
            services.practice_phone_number_create(
                actor=None, practice=practice, e164=spec.inbound, label="Demo inbound line"
            )
        for title, first, last, specialty in spec.providers:
            if not Provider.objects.filter(
                practice=practice, first_name=first, last_name=last
            ).exists():
                services.provider_create(
                    actor=None,
                    practice=practice,
                    title=title,
                    first_name=first,
                    last_name=last,
                    specialty=specialty,
                )
        return practice

    @transaction.atomic
    def _staff(self, practices: list[Practice]) -> None:
        user_model = get_user_model()
        for practice in practices:
            short = practice.slug.removeprefix("demo-")
            for role, suffix in ROLE_USERNAME.items():
                user = self._user(user_model, f"{short}-{suffix}")
                if not StaffMembership.objects.filter(user=user, practice=practice).exists():
                    services.staff_membership_create(
                        actor=None, user=user, practice=practice, role=role
                    )
        superuser = self._user(user_model, SUPERUSER_NAME)
        if not superuser.is_superuser:
            superuser.is_superuser = superuser.is_staff = True
            superuser.save(update_fields=["is_superuser", "is_staff"])

    def _user(self, user_model: Any, username: str) -> Any:
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": f"{username}@example.test", "is_staff": True}
        )
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _patients(self, practices: list[Practice], total: int) -> None:
        existing = {
            practice.pk: set(
                Patient.objects.filter(practice=practice).values_list("mrn_bidx", flat=True)
            )
            for practice in practices
        }
        slots = {practice.pk: _SlotFinder(practice) for practice in practices}
        rng = random.Random(2026)  # noqa: S311 - synthetic demo data, not security
        numbers = range(1, total + 1)
        with tqdm(total=total, desc="demo patients", unit="patient", disable=total == 0) as bar:
            for offset in range(0, total, BATCH_SIZE):
                with transaction.atomic():
                    for number in numbers[offset : offset + BATCH_SIZE]:
                        practice = practices[number % len(practices)]
                        bidx = patient_blind_index(
                            practice_id=practice.pk,
                            kind=BlindIndexKind.MRN,
                            value=normalize_mrn(demo_mrn(number)),
                        )
                        if bidx not in existing[practice.pk]:
                            patient = services.patient_create(
                                actor=None, practice=practice, **demo_patient_fields(number)
                            )
                            self._appointments(patient, slots[practice.pk], rng)
                        bar.update(1)

    def _appointments(self, patient: Patient, slots: _SlotFinder, rng: random.Random) -> None:
        now = timezone.now()
        for _ in range(rng.choice((0, 1, 1, 2))):
            found = slots.take(rng)
            if found is None:
                return
            provider, start, end = found
            appointment = services.appointment_book(
                actor=None,
                patient=patient,
                provider=provider,
                start=start,
                end=end,
                reason=rng.choice(REASONS),
            )
            if end < now:
                status = rng.choice(
                    (AppointmentStatus.COMPLETED,) * 5 + (AppointmentStatus.NO_SHOW,)
                )
                services.appointment_update(actor=None, appointment=appointment, status=status)

    def _summary(self, practices: list[Practice]) -> None:
        write = self.stdout.write
        write("")
        write(self.style.SUCCESS("Demo data ready."))
        for practice in practices:
            write(
                f"  {practice.name}: {practice.patients.count()} patients, "
                f"{practice.providers.count()} providers, "
                f"{Appointment.objects.filter(practice=practice).count()} appointments"
            )
        write("")
        write("  Admin: http://127.0.0.1:8000/admin/")
        write(f"  Demo logins (password for all: {DEMO_PASSWORD}):")
        write(f"    {SUPERUSER_NAME:<22} superuser, every practice")
        for practice in practices:
            short = practice.slug.removeprefix("demo-")
            for role, suffix in ROLE_USERNAME.items():
                write(f"    {f'{short}-{suffix}':<22} {role.label}, {practice.name}")


class _SlotFinder:
    """Free provider slots in opening hours, today +/- two weeks, handed out at random."""

    def __init__(self, practice: Practice) -> None:
        zone = zoneinfo.ZoneInfo(practice.timezone)
        hours = parse_opening_hours(practice.opening_hours)
        today = timezone.localdate(timezone=zone)
        providers = list(Provider.objects.filter(practice=practice, active=True))
        taken = set(
            Appointment.objects.filter(practice=practice)
            .exclude(status=AppointmentStatus.CANCELLED)
            .values_list("provider_id", "start")
        )
        self.free: list[tuple[Provider, dt.datetime, dt.datetime]] = []
        for delta in range(-APPOINTMENT_WINDOW_DAYS, APPOINTMENT_WINDOW_DAYS + 1):
            day = today + dt.timedelta(days=delta)
            for open_time, close_time in hours.get(WEEKDAYS[day.weekday()], []):
                for provider in providers:
                    length = dt.timedelta(minutes=provider.slot_minutes)
                    start = dt.datetime.combine(day, open_time, tzinfo=zone)
                    while start + length <= dt.datetime.combine(day, close_time, tzinfo=zone):
                        if (provider.pk, start) not in taken:
                            self.free.append((provider, start, start + length))
                        start += length

    def take(self, rng: random.Random) -> tuple[Provider, dt.datetime, dt.datetime] | None:
        """Remove and return a random free slot, or None when the calendar is full."""
        if not self.free:
            return None
        return self.free.pop(rng.randrange(len(self.free)))
