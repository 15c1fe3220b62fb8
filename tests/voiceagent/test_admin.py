"""The receptionist's admin as each role: permission matrix, tenant isolation, PHI masking,
audited transcript reads, and the callback "mark done" action."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.urls import reverse

from audit.actions import AuditAction
from clinic.roles import Role
from tests.clinic.conftest import Tenants, admin_url, audit_events, user_for
from tests.voiceagent.conftest import CALLER_NUMBER, new_call_sid
from voiceagent import services
from voiceagent.models import CallbackStatus, PracticeVoiceSettings

pytestmark = pytest.mark.django_db

MODELS = ("call", "callbackrequest", "practicevoicesettings")
# Written out, not derived from voiceagent.roles, so a wrong table fails here.
CAN_VIEW: dict[Role | str, set[str]] = {
    Role.FRONT_DESK: {"call", "callbackrequest"},
    Role.CLINICIAN: {"call", "callbackrequest"},
    Role.PRACTICE_ADMIN: set(MODELS),
    Role.COMPLIANCE_OFFICER: set(MODELS),
    "no_role": set(),
}
TRANSCRIPT_TEXT = "My name is Jane Doe and my knee hurts"


def _objects(tenants: Tenants) -> dict[str, dict[str, Any]]:
    made: dict[str, dict[str, Any]] = {}
    for side, practice in (("own", tenants.a), ("other", tenants.b)):
        call = services.call_start(
            call_sid=new_call_sid(),
            practice=practice,
            caller_number=CALLER_NUMBER,
            dialled_number="+12015550100",
        )
        services.transcript_turn_add(call_id=call.pk, role="caller", text=TRANSCRIPT_TEXT)
        callback = services.callback_request_create(
            call_id=call.pk,
            caller_name="Jane Doe",
            callback_number=CALLER_NUMBER,
            message="Please call about the knee",
        )
        made[side] = {
            "call": call,
            "callbackrequest": callback,
            "practicevoicesettings": PracticeVoiceSettings.objects.create(practice=practice),
        }
    return made


def _url(model: str, view: str, obj: Any = None) -> str:
    return admin_url("voiceagent", model, view, obj)


@pytest.mark.parametrize("model", MODELS)
def test_anonymous_is_sent_to_login(client, tenants, model):
    obj = _objects(tenants)["own"][model]

    for url in (_url(model, "changelist"), _url(model, "change", obj)):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("who", [*Role, "no_role"])
def test_permission_matrix_for_every_voice_admin_view(client, tenants, who):
    objects = _objects(tenants)
    client.force_login(user_for(tenants, who))
    for model in MODELS:
        viewable = model in CAN_VIEW[who]
        expected = HTTPStatus.OK if viewable else HTTPStatus.FORBIDDEN
        assert client.get(_url(model, "changelist")).status_code == expected, model
        # Rows the role may not see are outside the queryset: 404, never a hint they exist.
        expected_change = HTTPStatus.OK if viewable else HTTPStatus.NOT_FOUND
        own = objects["own"][model]
        assert client.get(_url(model, "change", own)).status_code == expected_change, model
        other = objects["other"][model]
        assert client.get(_url(model, "change", other)).status_code == HTTPStatus.NOT_FOUND, model


def test_calls_and_callbacks_cannot_be_added_or_deleted_even_by_a_superuser(client, tenants):
    objects = _objects(tenants)
    client.force_login(tenants.superuser)

    for model in ("call", "callbackrequest"):
        assert client.get(_url(model, "add")).status_code == HTTPStatus.FORBIDDEN
        delete = reverse(f"admin:voiceagent_{model}_delete", args=[objects["own"][model].pk])
        assert client.get(delete).status_code == HTTPStatus.FORBIDDEN


def test_changelist_lists_only_the_users_practice(client, tenants):
    objects = _objects(tenants)
    client.force_login(tenants.staff[Role.FRONT_DESK])

    response = client.get(_url("call", "changelist"))

    assert objects["own"]["call"].call_sid in response.text
    assert objects["other"]["call"].call_sid not in response.text


def test_front_desk_reads_the_transcript_and_the_read_is_audited(client, tenants):
    call = _objects(tenants)["own"]["call"]
    user = tenants.staff[Role.FRONT_DESK]
    client.force_login(user)

    response = client.get(_url("call", "change", call))

    assert TRANSCRIPT_TEXT in response.text
    assert CALLER_NUMBER in response.text
    [event] = audit_events(action=AuditAction.CALL_TRANSCRIPT_VIEW, resource_id=call.pk)
    assert event.actor_id == str(user.pk)
    assert event.practice_id == str(tenants.a.pk)


def test_compliance_officer_sees_calls_with_phi_masked(client, tenants):
    objects = _objects(tenants)
    client.force_login(tenants.staff[Role.COMPLIANCE_OFFICER])

    detail = client.get(_url("call", "change", objects["own"]["call"]))
    listing = client.get(_url("call", "changelist"))
    callback = client.get(_url("callbackrequest", "change", objects["own"]["callbackrequest"]))

    for response in (detail, listing, callback):
        assert response.status_code == HTTPStatus.OK
        assert CALLER_NUMBER not in response.text
        assert "Jane Doe" not in response.text
        assert "knee" not in response.text
    assert "•••76" in listing.text


def test_front_desk_marks_a_callback_done_through_the_action(client, tenants):
    callback = _objects(tenants)["own"]["callbackrequest"]
    user = tenants.staff[Role.FRONT_DESK]
    client.force_login(user)

    response = client.post(
        _url("callbackrequest", "changelist"),
        {"action": "mark_done", "_selected_action": [str(callback.pk)]},
    )

    assert response.status_code == HTTPStatus.FOUND
    callback.refresh_from_db()
    assert callback.status == CallbackStatus.DONE
    assert callback.done_by == user


def test_clinician_cannot_mark_callbacks_done(client, tenants):
    callback = _objects(tenants)["own"]["callbackrequest"]
    client.force_login(tenants.staff[Role.CLINICIAN])

    client.post(
        _url("callbackrequest", "changelist"),
        {"action": "mark_done", "_selected_action": [str(callback.pk)]},
    )

    callback.refresh_from_db()
    assert callback.status == CallbackStatus.OPEN


def test_practice_admin_switches_the_receptionist_on_and_the_change_is_audited(client, tenants):
    voice = _objects(tenants)["own"]["practicevoicesettings"]
    admin_user = tenants.staff[Role.PRACTICE_ADMIN]
    client.force_login(admin_user)

    response = client.post(
        _url("practicevoicesettings", "change", voice),
        {
            "agent_enabled": "on",
            "provider": "openai",
            "voice": "marin",
            "turn_detection": "server_vad",
            "instructions": "",
        },
    )

    assert response.status_code == HTTPStatus.FOUND, response.content[:2000]
    voice.refresh_from_db()
    assert voice.agent_enabled
    [event] = audit_events(action=AuditAction.RECORD_UPDATE, resource_id=voice.pk)
    assert event.actor_id == str(admin_user.pk)
    assert "agent_enabled" in event.detail["fields"]


def test_compliance_officer_cannot_change_voice_settings(client, tenants):
    voice = _objects(tenants)["own"]["practicevoicesettings"]
    client.force_login(tenants.staff[Role.COMPLIANCE_OFFICER])

    response = client.post(
        _url("practicevoicesettings", "change", voice),
        {
            "agent_enabled": "on",
            "provider": "openai",
            "voice": "marin",
            "turn_detection": "server_vad",
        },
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    voice.refresh_from_db()
    assert not voice.agent_enabled


def test_practice_admin_adds_settings_only_for_their_practice(client, tenants):
    client.force_login(tenants.staff[Role.PRACTICE_ADMIN])

    refused = client.post(
        _url("practicevoicesettings", "add"),
        {
            "practice": str(tenants.b.pk),
            "provider": "openai",
            "voice": "marin",
            "turn_detection": "server_vad",
        },
    )
    accepted = client.post(
        _url("practicevoicesettings", "add"),
        {
            "practice": str(tenants.a.pk),
            "provider": "openai",
            "voice": "marin",
            "turn_detection": "server_vad",
        },
    )

    assert refused.status_code == HTTPStatus.OK  # the form answers "select a valid choice"
    assert accepted.status_code == HTTPStatus.FOUND
    assert list(PracticeVoiceSettings.objects.values_list("practice_id", flat=True)) == [
        tenants.a.pk
    ]


def test_call_links_the_verified_patient_without_naming_them(client, tenants):
    from clinic import services as clinic_services

    call = _objects(tenants)["own"]["call"]
    patient = clinic_services.patient_create(
        actor=None,
        practice=tenants.a,
        first_name="Jane",
        last_name="Doe",
        date_of_birth=dt.date(1980, 3, 3),
    )
    services.call_patient_verified(call_id=call.pk, patient_id=patient.pk)
    client.force_login(tenants.staff[Role.COMPLIANCE_OFFICER])

    response = client.get(_url("call", "change", call))

    assert reverse("admin:clinic_patient_change", args=[patient.pk]) in response.text
    assert "Jane" not in response.text


def _recording(practice):
    from voiceagent.recording import TwoTrackRecorder, recording_save

    call = services.call_start(
        call_sid=new_call_sid(), practice=practice, caller_number="", dialled_number="+12015550100"
    )
    recorder = TwoTrackRecorder(max_seconds=1)
    recorder.add_inbound(b"\x11" * 800, timestamp_ms=0)
    return recording_save(call=call, recorder=recorder), recorder


@pytest.fixture
def recordings(tenants, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return {"own": _recording(tenants.a), "other": _recording(tenants.b)}


def _download(recording) -> str:
    return reverse("admin:voiceagent_callrecording_download", args=[recording.pk])


@pytest.mark.parametrize(
    ("who", "listing", "download"),
    [
        (Role.PRACTICE_ADMIN, HTTPStatus.OK, HTTPStatus.OK),
        (Role.COMPLIANCE_OFFICER, HTTPStatus.OK, HTTPStatus.FORBIDDEN),
        (Role.FRONT_DESK, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND),
        (Role.CLINICIAN, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND),
    ],
)
def test_recording_permission_matrix(client, tenants, recordings, who, listing, download):
    client.force_login(tenants.staff[who])
    own, _ = recordings["own"]
    other, _ = recordings["other"]

    assert client.get(_url("callrecording", "changelist")).status_code == listing
    assert client.get(_download(own)).status_code == download
    assert client.get(_download(other)).status_code == HTTPStatus.NOT_FOUND


def test_anonymous_download_is_sent_to_login(client, recordings):
    own, _ = recordings["own"]

    response = client.get(_download(own))

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("admin:login"))


def test_practice_admin_downloads_the_decrypted_wav_and_the_read_is_audited(
    client, tenants, recordings
):
    own, recorder = recordings["own"]
    user = tenants.staff[Role.PRACTICE_ADMIN]
    client.force_login(user)

    response = client.get(_download(own))

    assert response["Content-Type"] == "audio/wav"
    assert "no-store" in response["Cache-Control"]
    assert response.content == recorder.wav()
    [event] = audit_events(action=AuditAction.RECORD_VIEW, resource_id=own.pk)
    assert event.actor_id == str(user.pk)
