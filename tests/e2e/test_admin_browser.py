"""A front-desk user in a real browser: log in, find a patient by the blind index, open them,
and fail to reach another practice's patient. The page must never be cached."""

import datetime as dt
from http import HTTPStatus
from pathlib import Path

import pytest

from clinic import services
from clinic.roles import Role
from tests.clinic.factories import PatientFactory, PracticeFactory, UserFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def clinic_setup():
    own = PracticeFactory(name="Browser Practice A", slug="browser-a")
    other = PracticeFactory(name="Browser Practice B", slug="browser-b")
    user = UserFactory(username="frontdesk-e2e", is_staff=True, password="e2e-Pass-2026")
    services.staff_membership_create(actor=None, user=user, practice=own, role=Role.FRONT_DESK)
    mine = PatientFactory(
        practice=own,
        first_name="Ava",
        last_name="Testerson",
        date_of_birth=dt.date(1980, 3, 3),
    )
    theirs = PatientFactory(practice=other, first_name="Ben", last_name="Sampleton")
    return {"user": user, "mine": mine, "theirs": theirs}


def log_in(page, live_server, *, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def test_front_desk_finds_and_opens_own_patient_by_name_and_birth_date(
    page, live_server, clinic_setup
):
    log_in(page, live_server, username="frontdesk-e2e", password="e2e-Pass-2026")
    page.goto(f"{live_server.url}/admin/clinic/patient/")
    page.fill("#searchbar", "Testerson 1980-03-03")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Testerson" in rows.first.inner_text()

    response = page.goto(
        f"{live_server.url}/admin/clinic/patient/{clinic_setup['mine'].pk}/change/"
    )
    assert response.status == HTTPStatus.OK
    assert "no-store" in response.headers.get("cache-control", "")
    assert page.input_value("#id_last_name") == "Testerson"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "front-desk-patient.png"))


def test_front_desk_gets_404_for_another_practices_patient(page, live_server, clinic_setup):
    log_in(page, live_server, username="frontdesk-e2e", password="e2e-Pass-2026")
    response = page.goto(
        f"{live_server.url}/admin/clinic/patient/{clinic_setup['theirs'].pk}/change/"
    )
    assert response.status == HTTPStatus.NOT_FOUND
    assert "Sampleton" not in page.content()
    page.goto(f"{live_server.url}/admin/clinic/patient/")
    page.fill("#searchbar", "Sampleton")
    page.press("#searchbar", "Enter")
    page.wait_for_load_state()
    assert "Sampleton" not in page.locator("#changelist").inner_text()


def test_anonymous_visitor_is_sent_to_the_login_page(page, live_server, clinic_setup):
    page.goto(f"{live_server.url}/admin/clinic/patient/{clinic_setup['mine'].pk}/change/")
    assert "/admin/login/" in page.url
    assert "Testerson" not in page.content()


def test_admin_pages_run_under_the_content_security_policy(page, live_server, clinic_setup):
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    log_in(page, live_server, username="frontdesk-e2e", password="e2e-Pass-2026")
    for path in (
        "/admin/clinic/patient/",
        f"/admin/clinic/patient/{clinic_setup['mine'].pk}/change/",
        "/admin/clinic/appointment/add/",
    ):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
    assert violations == []
