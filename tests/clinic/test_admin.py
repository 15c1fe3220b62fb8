"""The clinic admin as each role: permission matrix, tenant isolation, PHI masking, audited reads.

Matrix for every clinic admin view (changelist, add, change): anonymous 302 to login, a role
without the permission 403, another practice's object 404, allowed 200.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse

from audit.actions import AuditAction
from clinic.models import Appointment, Patient
from clinic.roles import Role
from tests.clinic.conftest import Tenants, admin_url, audit_events, user_for
from tests.clinic.factories import (
    AppointmentFactory,
    PatientFactory,
    PracticePhoneNumberFactory,
    ProviderFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MODELS = (
    "practice",
    "staffmembership",
    "provider",
    "patient",
    "appointment",
    "practicephonenumber",
)
ALL = set(MODELS)
CLINICAL = {"practice", "provider", "patient", "appointment"}
# What each role may open (changelist and change page) and add; written out, not derived,
# so a wrong clinic.roles table fails here.
CAN_VIEW: dict[Role | str, set[str]] = {
    Role.FRONT_DESK: CLINICAL,
    Role.CLINICIAN: CLINICAL,
    Role.PRACTICE_ADMIN: ALL,
    Role.COMPLIANCE_OFFICER: ALL,
    "no_role": set(),
}
CAN_ADD: dict[Role | str, set[str]] = {
    Role.FRONT_DESK: {"patient", "appointment"},
    Role.CLINICIAN: set(),
    Role.PRACTICE_ADMIN: ALL - {"practice"},
    Role.COMPLIANCE_OFFICER: set(),
    "no_role": set(),
}


def _objects(tenants: Tenants) -> dict[str, dict[str, Any]]:
    """One object of every model in practice A ("own") and B ("other")."""
    made: dict[str, dict[str, Any]] = {"own": {}, "other": {}}
    for side, practice in (("own", tenants.a), ("other", tenants.b)):
        appointment = AppointmentFactory(practice=practice)
        made[side] = {
            "practice": practice,
            "staffmembership": StaffMembershipFactory(practice=practice, user=UserFactory()),
            "provider": appointment.provider,
            "patient": appointment.patient,
            "appointment": appointment,
            "practicephonenumber": PracticePhoneNumberFactory(practice=practice),
        }
    return made


def _url(model: str, view: str, obj: Any = None) -> str:
    return admin_url("clinic", model, view, obj)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("view", ["changelist", "add", "change"])
def test_anonymous_is_sent_to_login(client, tenants, model, view):
    obj = _objects(tenants)["own"][model]
    response = client.get(_url(model, view, obj))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("who", [*Role, "no_role"])
def test_permission_matrix_for_every_clinic_admin_view(client, tenants, who):
    objects = _objects(tenants)
    client.force_login(user_for(tenants, who))
    for model in MODELS:
        viewable = model in CAN_VIEW[who]
        expected_view = HTTPStatus.OK if viewable else HTTPStatus.FORBIDDEN
        listing = client.get(_url(model, "changelist"))
        assert listing.status_code == expected_view, model
        if viewable:  # content: own row linked, the other practice's row absent
            body = listing.content.decode()
            assert _url(model, "change", objects["own"][model]) in body, model
            assert _url(model, "change", objects["other"][model]) not in body, model
        # A staff user with no role belongs to no practice: practice A's rows are not theirs.
        expected_change = HTTPStatus.NOT_FOUND if who == "no_role" else expected_view
        assert client.get(_url(model, "change", objects["own"][model])).status_code == (
            expected_change
        ), model
        expected_add = HTTPStatus.OK if model in CAN_ADD[who] else HTTPStatus.FORBIDDEN
        assert client.get(_url(model, "add")).status_code == expected_add, model
        # Another practice's object does not exist for this user, whatever the role.
        other = objects["other"][model]
        assert client.get(_url(model, "change", other)).status_code == HTTPStatus.NOT_FOUND, model


@pytest.mark.parametrize("model", MODELS)
def test_superuser_sees_every_practice(client, tenants, model):
    objects = _objects(tenants)
    client.force_login(tenants.superuser)
    assert client.get(_url(model, "changelist")).status_code == HTTPStatus.OK
    assert client.get(_url(model, "add")).status_code == HTTPStatus.OK
    for side in ("own", "other"):
        assert client.get(_url(model, "change", objects[side][model])).status_code == HTTPStatus.OK


@pytest.mark.parametrize("suffix", ["delete", "history"])
def test_other_practice_delete_and_history_urls_are_404(client, tenants, suffix):
    patient = PatientFactory(practice=tenants.b)
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    url = reverse(f"admin:clinic_patient_{suffix}", args=[patient.pk])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND
    assert client.post(url, {"post": "yes"}).status_code == HTTPStatus.NOT_FOUND
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_malformed_object_id_is_404(client, tenants):
    client.force_login(tenants.staff[Role.FRONT_DESK])
    url = reverse("admin:clinic_patient_change", args=["not-a-uuid"])
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


def test_changelist_shows_own_patients_decrypted_and_hides_other_practice(client, tenants):
    PatientFactory(practice=tenants.a, first_name="Opal", last_name="Stubbins", mrn="OWN-1")
    PatientFactory(practice=tenants.b, first_name="Quinn", last_name="Notreal", mrn="OTHER-1")
    client.force_login(tenants.staff[Role.FRONT_DESK])
    page = client.get(_url("patient", "changelist")).content.decode()
    assert "Stubbins, Opal" in page
    assert "OWN-1" in page
    assert "Notreal" not in page
    assert "Practice B" not in page  # not even in the practice filter


def test_compliance_officer_sees_masked_patients(client, tenants):
    patient = PatientFactory(
        practice=tenants.a,
        first_name="Opal",
        last_name="Stubbins",
        date_of_birth=dt.date(1961, 4, 9),
        phone="+14155550188",
        mrn="MASK-77",
    )
    client.force_login(tenants.staff[Role.COMPLIANCE_OFFICER])
    for url in (_url("patient", "changelist"), _url("patient", "change", patient)):
        page = client.get(url).content.decode()
        assert "Stubbins" not in page, url
        assert "Opal" not in page, url
        assert "1961-04-09" not in page, url
        assert "5550188" not in page, url
        assert "MASK-77" not in page, url
        assert "S•••, O•••" in page, url
        assert "1961-••-••" in page, url


def test_compliance_officer_sees_masked_patient_on_appointments(client, tenants):
    appointment = AppointmentFactory(practice=tenants.a, reason="Synthetic migraine")
    client.force_login(tenants.staff[Role.COMPLIANCE_OFFICER])
    for url in (_url("appointment", "changelist"), _url("appointment", "change", appointment)):
        page = client.get(url).content.decode()
        assert appointment.patient.last_name not in page, url
        assert "migraine" not in page, url


def test_clinician_change_page_shows_decrypted_phi(client, tenants):
    patient = PatientFactory(practice=tenants.a, last_name="Pretendo", notes="Synthetic note")
    client.force_login(tenants.staff[Role.CLINICIAN])
    page = client.get(_url("patient", "change", patient)).content.decode()
    assert "Pretendo" in page
    assert "Synthetic note" in page


@pytest.mark.parametrize("field", ["mrn", "phone", "name_dob"])
def test_patient_search_by_blind_index_stays_in_practice(client, tenants, field):
    kwargs = {
        "last_name": "Synthwick",
        "date_of_birth": dt.date(1990, 2, 3),
        "phone": "+14155550166",
        "mrn": "SRCH-1",
    }
    mine = PatientFactory(practice=tenants.a, first_name="Rosa", **kwargs)
    PatientFactory(practice=tenants.b, first_name="Tess", **kwargs)
    term = {"mrn": "srch1", "phone": "(415) 555-0166", "name_dob": "synthwick 02/03/1990"}[field]
    client.force_login(tenants.staff[Role.FRONT_DESK])
    response = client.get(_url("patient", "changelist"), {"q": term})
    assert list(response.context["cl"].result_list) == [mine]
    page = response.content.decode()
    assert "Rosa" in page
    assert "Tess" not in page


def test_autocomplete_of_patients_stays_in_practice(client, tenants):
    mine = PatientFactory(practice=tenants.a, mrn="AUTO-1")
    theirs = PatientFactory(practice=tenants.b, mrn="AUTO-1")
    client.force_login(tenants.staff[Role.FRONT_DESK])
    params = {
        "app_label": "clinic",
        "model_name": "appointment",
        "field_name": "patient",
        "term": "AUTO-1",
    }
    response = client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == HTTPStatus.OK
    results = response.json()["results"]
    assert [row["id"] for row in results] == [str(mine.pk)]
    assert results[0]["text"].startswith(mine.full_name())
    assert str(theirs.pk) not in response.content.decode()


def test_autocomplete_of_providers_stays_in_practice(client, tenants):
    mine = ProviderFactory(practice=tenants.a, last_name="Sharedname")
    ProviderFactory(practice=tenants.b, last_name="Sharedname")
    client.force_login(tenants.staff[Role.FRONT_DESK])
    params = {
        "app_label": "clinic",
        "model_name": "appointment",
        "field_name": "provider",
        "term": "Sharedname",
    }
    response = client.get(reverse("admin:autocomplete"), params)
    assert [row["id"] for row in response.json()["results"]] == [str(mine.pk)]


def test_raw_id_popup_lookup_stays_in_practice(client, tenants):
    mine = PatientFactory(practice=tenants.a)
    theirs = PatientFactory(practice=tenants.b)
    client.force_login(tenants.staff[Role.FRONT_DESK])
    response = client.get(_url("patient", "changelist"), {"_to_field": "id", "_popup": "1"})
    assert response.status_code == HTTPStatus.OK
    assert list(response.context["cl"].result_list) == [mine]
    assert str(theirs.pk) not in response.content.decode()


def test_raw_id_widget_does_not_show_other_practice_label(tenants, rf):
    from django.contrib import admin

    theirs = PatientFactory(practice=tenants.b, last_name="Madeupski")
    request = rf.get("/")
    request.user = tenants.staff[Role.FRONT_DESK]
    model_admin = admin.site._registry[Appointment]
    model_admin.raw_id_fields, model_admin.autocomplete_fields = ("patient",), ()
    try:
        field = model_admin.formfield_for_foreignkey(
            Appointment._meta.get_field("patient"), request
        )
    finally:
        model_admin.raw_id_fields, model_admin.autocomplete_fields = (), ("patient", "provider")
    assert field.widget.label_and_url_for_value(theirs.pk) == ("", "")
    assert not field.queryset.filter(pk=theirs.pk).exists()


def test_practice_filter_param_for_other_practice_shows_nothing(client, tenants):
    PatientFactory(practice=tenants.b, last_name="Notreal")
    client.force_login(tenants.staff[Role.FRONT_DESK])
    response = client.get(_url("patient", "changelist"), {"practice__id__exact": str(tenants.b.pk)})
    assert "Notreal" not in response.content.decode()


def test_add_form_offers_only_own_practices(client, tenants):
    client.force_login(tenants.staff[Role.FRONT_DESK])
    response = client.get(_url("patient", "add"))
    choices = {
        str(pk)
        for pk in response.context["adminform"]
        .form.fields["practice"]
        .queryset.values_list("pk", flat=True)
    }
    assert choices == {str(tenants.a.pk)}


def test_front_desk_adds_patient_through_the_service(client, tenants):
    user = tenants.staff[Role.FRONT_DESK]
    client.force_login(user)
    response = client.post(
        _url("patient", "add"),
        {
            "practice": str(tenants.a.pk),
            "first_name": "Sami",
            "last_name": "Dummington",
            "date_of_birth": "1985-12-24",
            "phone": "(415) 555-0133",
            "email": "",
            "address": "",
            "mrn": "ADD-1",
            "insurance_member_id": "",
            "notes": "",
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    patient = Patient.objects.get(practice=tenants.a)
    assert patient.phone == "+14155550133"
    assert response["Location"].endswith(
        reverse("admin:clinic_patient_change", args=[patient.pk])
    ) or response["Location"] == _url("patient", "changelist")
    [event] = audit_events(action=AuditAction.PATIENT_CREATE, resource_id=patient.pk)
    assert event.actor_id == str(user.pk)
    # The admin's own log table is plaintext at rest: it must not receive the name.
    assert "Dummington" not in LogEntry.objects.get(object_id=str(patient.pk)).object_repr


def test_add_patient_with_future_birth_date_shows_message(client, tenants):
    client.force_login(tenants.staff[Role.FRONT_DESK])
    tomorrow = dt.date.today() + dt.timedelta(days=2)  # noqa: DTZ011 - a date string for the form
    response = client.post(
        _url("patient", "add"),
        {
            "practice": str(tenants.a.pk),
            "first_name": "Sami",
            "last_name": "Dummington",
            "date_of_birth": tomorrow.isoformat(),
            "phone": "call me maybe",
        },
    )
    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert "Date of birth cannot be in the future." in errors["date_of_birth"]
    assert "Enter a valid phone number" in errors["phone"][0]
    assert not Patient.objects.exists()


def test_front_desk_cannot_book_other_practice_patient(client, tenants):
    theirs = PatientFactory(practice=tenants.b)
    provider = ProviderFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.FRONT_DESK])
    start = dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=3)
    response = client.post(
        _url("appointment", "add"),
        {
            "practice": str(tenants.a.pk),
            "patient": str(theirs.pk),
            "provider": str(provider.pk),
            "start_0": start.strftime("%Y-%m-%d"),
            "start_1": "10:00:00",
            "end_0": start.strftime("%Y-%m-%d"),
            "end_1": "10:30:00",
            "status": "booked",
            "reason": "",
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "patient" in response.context["adminform"].form.errors
    assert not Appointment.objects.exists()


def test_front_desk_books_appointment_and_double_booking_is_refused(client, tenants):
    patient = PatientFactory(practice=tenants.a)
    provider = ProviderFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.FRONT_DESK])
    day = (dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=3)).strftime("%Y-%m-%d")
    data = {
        "practice": str(tenants.a.pk),
        "patient": str(patient.pk),
        "provider": str(provider.pk),
        "start_0": day,
        "start_1": "10:00:00",
        "end_0": day,
        "end_1": "10:30:00",
        "status": "booked",
        "reason": "Synthetic visit",
    }
    assert client.post(_url("appointment", "add"), data).status_code == HTTPStatus.FOUND
    appointment = Appointment.objects.get()
    assert audit_events(action=AuditAction.APPOINTMENT_BOOK, resource_id=appointment.pk)
    again = client.post(_url("appointment", "add"), {**data, "start_1": "10:15:00"})
    assert again.status_code == HTTPStatus.OK
    assert "already has an appointment" in again.content.decode()
    assert Appointment.objects.count() == 1


def test_cancelling_in_the_admin_goes_through_the_service(client, tenants):
    appointment = AppointmentFactory(practice=tenants.a)
    client.force_login(tenants.staff[Role.FRONT_DESK])
    local = appointment.start
    response = client.post(
        _url("appointment", "change", appointment),
        {
            "practice": str(tenants.a.pk),
            "patient": str(appointment.patient_id),
            "provider": str(appointment.provider_id),
            "start_0": local.strftime("%Y-%m-%d"),
            "start_1": local.strftime("%H:%M:%S"),
            "end_0": appointment.end.strftime("%Y-%m-%d"),
            "end_1": appointment.end.strftime("%H:%M:%S"),
            "status": "cancelled",
            "reason": appointment.reason,
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    assert audit_events(action=AuditAction.APPOINTMENT_CANCEL, resource_id=appointment.pk)


def test_patient_reads_are_audited_with_ids_shown(client, tenants):
    patient = PatientFactory(practice=tenants.a)
    user = tenants.staff[Role.CLINICIAN]
    client.force_login(user)
    client.get(_url("patient", "changelist"))
    client.get(_url("patient", "change", patient))
    [listed] = audit_events(action=AuditAction.PATIENT_LIST_VIEW)
    assert listed.detail["ids"] == [str(patient.pk)]
    assert listed.actor_id == str(user.pk)
    [viewed] = audit_events(action=AuditAction.PATIENT_VIEW, resource_id=patient.pk)
    assert viewed.practice_id == str(tenants.a.pk)


def test_changelist_query_count_does_not_grow_with_rows(
    client, tenants, django_assert_max_num_queries
):
    client.force_login(tenants.staff[Role.FRONT_DESK])
    PatientFactory.create_batch(3, practice=tenants.a)
    client.get(_url("patient", "changelist"))  # warm key caches and session
    with django_assert_max_num_queries(20) as few:
        client.get(_url("patient", "changelist"))
    PatientFactory.create_batch(30, practice=tenants.a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(_url("patient", "changelist"))
    assert len(response.context["cl"].result_list) == 33


def test_practice_id_of_reads_text_practice_ids_as_uuids(tenants):
    from types import SimpleNamespace

    from django.contrib import admin

    from clinic.admin_scoping import PracticeScopedAdminMixin

    class TextScoped(PracticeScopedAdminMixin, admin.ModelAdmin):
        practice_path = "practice_id"

    model_admin = TextScoped(Patient, admin.site)
    row = SimpleNamespace(practice_id=str(tenants.a.pk))
    assert model_admin.practice_id_of(row) == tenants.a.pk
    assert model_admin.practice_id_of(SimpleNamespace(practice_id="garbage")) is None


def test_moving_a_completed_appointment_is_refused_on_the_form(client, tenants):
    appointment = AppointmentFactory(practice=tenants.a, status="completed")
    client.force_login(tenants.staff[Role.FRONT_DESK])
    later = appointment.start + dt.timedelta(days=1)
    response = client.post(
        _url("appointment", "change", appointment),
        {
            "practice": str(tenants.a.pk),
            "patient": str(appointment.patient_id),
            "provider": str(appointment.provider_id),
            "start_0": later.strftime("%Y-%m-%d"),
            "start_1": later.strftime("%H:%M:%S"),
            "end_0": later.strftime("%Y-%m-%d"),
            "end_1": (later + dt.timedelta(minutes=30)).strftime("%H:%M:%S"),
            "status": "completed",
            "reason": appointment.reason,
        },
    )
    assert response.status_code == HTTPStatus.OK
    assert "this one is completed" in response.content.decode()
    appointment.refresh_from_db()
    assert appointment.start != later


def test_practice_admin_changes_a_role_but_cannot_move_the_membership(client, tenants):
    member = UserFactory()
    membership = StaffMembershipFactory(practice=tenants.a, user=member, role="front_desk")
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])
    response = client.post(
        _url("staffmembership", "change", membership),
        {"practice": str(tenants.b.pk), "user": str(tenants.superuser.pk), "role": "clinician"},
    )
    assert response.status_code == HTTPStatus.FOUND
    membership.refresh_from_db()
    assert (membership.practice, membership.user, membership.role) == (
        tenants.a,
        member,
        "clinician",
    )
    assert membership.user.groups.filter(name="Clinician").exists()
