"""Login lockout (django-axes) and the Content Security Policy on admin pages."""

from http import HTTPStatus

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db
LOGIN = "/admin/login/"


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_user(
        username="lockout-test", password="Right-Password-2026", is_staff=True
    )


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, staff_user, settings):
    for attempt in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.post(LOGIN, {"username": "lockout-test", "password": "wrong"})
        # The form again, with its error, until the limit; the limit-th failure locks.
        expected = (
            HTTPStatus.OK if attempt < settings.AXES_FAILURE_LIMIT else HTTPStatus.TOO_MANY_REQUESTS
        )
        assert response.status_code == expected
    response = client.post(LOGIN, {"username": "lockout-test", "password": "Right-Password-2026"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(
        action=AuditAction.LOGIN_FAILED, actor_label="lockout-test"
    )
    assert failures.count() >= settings.AXES_FAILURE_LIMIT
    assert "Right-Password" not in str(list(failures.values_list("detail", flat=True)))


def test_lockout_is_per_username_not_the_whole_clinic_address(
    client, staff_user, django_user_model, settings
):
    django_user_model.objects.create_user(
        username="colleague", password="Other-Pass-2026", is_staff=True
    )
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(LOGIN, {"username": "lockout-test", "password": "wrong"})
    response = client.post(LOGIN, {"username": "colleague", "password": "Other-Pass-2026"})
    assert response.status_code == HTTPStatus.FOUND


def test_a_successful_login_resets_the_failure_count(client, staff_user, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(LOGIN, {"username": "lockout-test", "password": "wrong"})
    assert (
        client.post(
            LOGIN, {"username": "lockout-test", "password": "Right-Password-2026"}
        ).status_code
        == HTTPStatus.FOUND
    )
    client.logout()
    client.post(LOGIN, {"username": "lockout-test", "password": "wrong"})
    assert (
        client.post(
            LOGIN, {"username": "lockout-test", "password": "Right-Password-2026"}
        ).status_code
        == HTTPStatus.FOUND
    )


def test_admin_pages_carry_a_content_security_policy(client):
    policy = client.get(LOGIN)["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy
