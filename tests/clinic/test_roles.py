"""Role groups: the migrated groups hold exactly the permissions clinic.roles defines."""

import pytest
from django.contrib.auth.models import Group

from clinic.roles import GROUP_NAMES, ROLE_PERMISSIONS, Role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", list(Role))
def test_role_group_matches_role_permissions(role):
    group = Group.objects.get(name=GROUP_NAMES[role])
    granted = {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }
    assert granted == ROLE_PERMISSIONS[role]


def test_compliance_officer_can_view_and_export_audit_but_change_nothing():
    perms = ROLE_PERMISSIONS[Role.COMPLIANCE_OFFICER]
    assert {"audit.view_auditevent", "audit.export_auditevent"} <= perms
    assert all(p.split(".")[1].startswith(("view_", "export_")) for p in perms)
    assert "clinic.view_patient_phi" not in perms
