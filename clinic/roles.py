"""Staff roles: what each one may do, as Django groups and permission codenames.

Invariant: a role's permissions are defined here once. The data migrations that create the
groups copy these lists (migrations must not import live code), and
`tests/clinic/test_roles.py` checks the groups in the database match this module, so the two
cannot drift apart silently.

A user's role is held per practice (`StaffMembership.role`); Django permissions are per user,
so a user is put in the group of every role they hold somewhere (the union), and the admin
then checks each object against the role held *in that object's practice*
(`role_allows`). A clinician in practice A who is also front desk in practice B therefore
cannot change appointments in A as front desk could.
"""

from django.db import models

PATIENT_PHI_PERMISSION = "clinic.view_patient_phi"


class Role(models.TextChoices):
    """The four staff roles of a practice."""

    FRONT_DESK = "front_desk", "Front desk"
    CLINICIAN = "clinician", "Clinician"
    PRACTICE_ADMIN = "practice_admin", "Practice admin"
    COMPLIANCE_OFFICER = "compliance_officer", "Compliance officer"


def _crud(model: str, *verbs: str) -> set[str]:
    return {f"clinic.{verb}_{model}" for verb in verbs}


_ALL = ("add", "change", "delete", "view")
_CLINIC_MODELS = (
    "practice",
    "staffmembership",
    "provider",
    "patient",
    "appointment",
    "practicephonenumber",
)

# "app_label.codename" per role. Audit permissions are added by a later migration once the
# audit app defines them; they are listed here so the check in the tests covers them too.
ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.FRONT_DESK: frozenset(
        _crud("patient", "add", "change", "view")
        | _crud("appointment", "add", "change", "view")
        | _crud("provider", "view")
        | _crud("practice", "view")
        | {PATIENT_PHI_PERMISSION}
    ),
    Role.CLINICIAN: frozenset(
        _crud("patient", "change", "view")
        | _crud("appointment", "change", "view")
        | _crud("provider", "view")
        | _crud("practice", "view")
        | {PATIENT_PHI_PERMISSION}
    ),
    Role.PRACTICE_ADMIN: frozenset(
        {perm for model in _CLINIC_MODELS for perm in _crud(model, *_ALL)}
        - {"clinic.add_practice", "clinic.delete_practice"}  # tenants are made by superusers
        | {PATIENT_PHI_PERMISSION}
    ),
    # View-only on everything, and no PHI in clear: lists and detail pages show masked values.
    Role.COMPLIANCE_OFFICER: frozenset(
        {perm for model in _CLINIC_MODELS for perm in _crud(model, "view")}
        | {"audit.view_auditevent", "audit.export_auditevent"}
    ),
}

GROUP_NAMES: dict[Role, str] = {role: str(role.label) for role in Role}


def role_allows(role: Role | str | None, perm: str) -> bool:
    """Whether the role grants the "app_label.codename" permission."""
    if role is None:
        return False
    return perm in ROLE_PERMISSIONS[Role(role)]
