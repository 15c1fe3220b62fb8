"""seed_demo: idempotent (same counts on a second run), synthetic, prints the logins."""

from __future__ import annotations

from http import HTTPStatus
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from clinic.management.commands.seed_demo import DEMO_PASSWORD, SUPERUSER_NAME
from clinic.models import (
    Appointment,
    Patient,
    Practice,
    PracticePhoneNumber,
    Provider,
    StaffMembership,
)

pytestmark = pytest.mark.django_db

COUNTED = (Practice, PracticePhoneNumber, Provider, StaffMembership, Patient, Appointment)


def _counts() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in COUNTED}
    counts["users"] = get_user_model().objects.count()
    return counts


def _seed(patients: int) -> str:
    out = StringIO()
    call_command("seed_demo", patients=patients, allow_non_debug=True, stdout=out)
    return out.getvalue()


def test_seed_demo_twice_yields_the_same_counts():
    first_output = _seed(12)
    first = _counts()
    assert first["Practice"] == 2
    assert first["Patient"] == 12
    assert first["StaffMembership"] == 8  # four roles in each practice
    assert first["Appointment"] > 0
    _seed(12)
    assert _counts() == first
    assert "http://127.0.0.1:8000/admin/" in first_output
    assert DEMO_PASSWORD in first_output


def test_seed_demo_resumes_with_more_patients():
    _seed(6)
    _seed(10)
    assert Patient.objects.count() == 10


def test_seed_demo_logins_work_and_see_their_practice_only():
    output = _seed(4)
    client = Client()
    # Through the login form: the lockout backend (django-axes) needs the request.
    assert (
        client.post(
            "/admin/login/", {"username": "maple-frontdesk", "password": DEMO_PASSWORD}
        ).status_code
        == HTTPStatus.FOUND
    )
    assert "maple-frontdesk" in output
    page = client.get("/admin/clinic/practice/").content.decode()
    assert "Maple Street" in page
    assert "Harbor View" not in page
    client.logout()
    assert (
        client.post(
            "/admin/login/", {"username": SUPERUSER_NAME, "password": DEMO_PASSWORD}
        ).status_code
        == HTTPStatus.FOUND
    )


def test_seed_demo_data_is_obviously_synthetic():
    _seed(8)
    for patient in Patient.objects.all():
        assert patient.email.endswith("@example.test")
        assert patient.phone[-7:-2] == "55501"  # 555-01xx, reserved for fiction
        assert patient.mrn.startswith("DEMO-")


def test_seed_demo_refuses_to_run_without_debug_unless_told(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", patients=1)
