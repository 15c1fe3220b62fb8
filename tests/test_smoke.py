"""The project boots: settings load, the admin login page answers."""

from http import HTTPStatus

import pytest


@pytest.mark.django_db
def test_admin_login_page_answers(client):
    response = client.get("/admin/login/")
    assert response.status_code == HTTPStatus.OK
