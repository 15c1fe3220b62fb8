"""Clinic fixtures: two practices, staff of every role in the first, helpers for audit events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from audit.models import AuditEvent
from clinic import services
from clinic.models import Practice
from clinic.roles import Role
from tests.clinic.factories import PracticeFactory, UserFactory


@dataclass
class Tenants:
    """Practice A (where the staff work) and practice B (the other tenant)."""

    a: Practice
    b: Practice
    staff: dict[Role, Any]
    superuser: Any


@pytest.fixture
def tenants(db: Any) -> Tenants:
    """Two practices and one user per role at practice A, with their groups (via services)."""
    a = PracticeFactory(name="Practice A", slug="practice-a")
    b = PracticeFactory(name="Practice B", slug="practice-b")
    staff = {}
    for role in Role:
        user = UserFactory(username=f"a-{role.value}")
        services.staff_membership_create(actor=None, user=user, practice=a, role=role)
        staff[role] = user
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    return Tenants(a=a, b=b, staff=staff, superuser=superuser)


def audit_events(*, action: Any, resource_id: Any = None) -> list[AuditEvent]:
    """The recorded events of one action (for one resource if given), oldest first."""
    qs = AuditEvent.objects.filter(action=int(action))
    if resource_id is not None:
        qs = qs.filter(resource_id=str(resource_id))
    return list(qs.order_by("id"))


def user_for(tenants: Tenants, who: Role | str) -> Any:
    """Practice A's staff member of a role, or a staff user with no role ("no_role")."""
    if who == "no_role":
        return UserFactory(username="staff-no-role", is_staff=True)
    return tenants.staff[who]


def admin_url(app: str, model: str, view: str, obj: Any = None) -> str:
    """An admin URL: changelist, add, or change (of obj)."""
    from django.urls import reverse

    if view == "change":
        return reverse(f"admin:{app}_{model}_change", args=[obj.pk])
    return reverse(f"admin:{app}_{model}_{view}")
