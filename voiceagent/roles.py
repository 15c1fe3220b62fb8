"""Who may see and do what in the receptionist's admin, by the role held in each practice.

Invariant: access to call records follows the staff member's role *in the record's practice*
(clinic.roles.Role, from StaffMembership), exactly as the clinic admin's object checks do.
The table lives here, with the app whose records it guards, rather than as Django group
permissions: clinic's role groups hold clinic's permissions only (tests/clinic/test_roles.py
pins them), and a role held in one practice must grant nothing in another anyway.
"""

from clinic.roles import Role


def _perms(model: str, *verbs: str) -> set[str]:
    return {f"voiceagent.{verb}_{model}" for verb in verbs}


_READ_CALLS = _perms("call", "view") | _perms("transcriptturn", "view")

VOICE_ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    # The front desk works the callback queue and answers for what the receptionist did.
    Role.FRONT_DESK: frozenset(_READ_CALLS | _perms("callbackrequest", "view", "change")),
    Role.CLINICIAN: frozenset(_READ_CALLS | _perms("callbackrequest", "view")),
    # Recordings: listed for practice admins and compliance officers; played (downloaded)
    # only where the role also sees PHI in clear, i.e. by the practice admin.
    Role.PRACTICE_ADMIN: frozenset(
        _READ_CALLS
        | _perms("callbackrequest", "view", "change")
        | _perms("practicevoicesettings", "view", "add", "change")
        | _perms("callrecording", "view")
    ),
    # Reviews what happened; changes nothing. Transcript text is masked for this role (no
    # clinic.view_patient_phi), like patient charts in the clinic admin.
    Role.COMPLIANCE_OFFICER: frozenset(
        _READ_CALLS
        | _perms("callbackrequest", "view")
        | _perms("practicevoicesettings", "view")
        | _perms("callrecording", "view")
    ),
}


def voice_role_allows(role: Role | str | None, perm: str) -> bool:
    """Whether the role grants the "voiceagent.<verb>_<model>" permission."""
    if role is None:
        return False
    return perm in VOICE_ROLE_PERMISSIONS[Role(role)]
