"""Auth and permission events: logins, logouts, failed logins, group and permission changes.

Invariant: these receivers record ids, usernames and operation names only; a failed login
records the username tried (not PHI here) and never any other credential.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from audit.actions import AuditAction
from audit.actors import Actor
from audit.context import audit_context, current_audit_context

USER_RESOURCE = "auth.user"
GROUP_RESOURCE = "auth.group"


def _ip_of(request: Any) -> str | None:
    return None if request is None else request.META.get("REMOTE_ADDR")


@receiver(user_logged_in, dispatch_uid="audit.login")
def record_login(sender: Any, request: Any, user: Any, **_: Any) -> None:
    """LOGIN by this user."""
    from audit.services import audit_record

    with audit_context(ip=current_audit_context().ip or _ip_of(request)):
        audit_record(
            action=AuditAction.LOGIN,
            actor=user,
            resource_type=USER_RESOURCE,
            resource_id=user.pk,
            practice_id=None,
            detail={},
        )


@receiver(user_logged_out, dispatch_uid="audit.logout")
def record_logout(sender: Any, request: Any, user: Any, **_: Any) -> None:
    """LOGOUT (user is None when the session had already expired)."""
    from audit.services import audit_record

    if user is None:
        return
    with audit_context(ip=current_audit_context().ip or _ip_of(request)):
        audit_record(
            action=AuditAction.LOGOUT,
            actor=user,
            resource_type=USER_RESOURCE,
            resource_id=user.pk,
            practice_id=None,
            detail={},
        )


@receiver(user_login_failed, dispatch_uid="audit.login_failed")
def record_login_failed(sender: Any, credentials: dict, request: Any = None, **_: Any) -> None:
    """LOGIN_FAILED naming the username tried; the password never leaves `credentials`."""
    from audit.services import audit_record

    username_field = get_user_model().USERNAME_FIELD
    username = str(credentials.get(username_field) or credentials.get("username") or "")[:150]
    with audit_context(ip=current_audit_context().ip or _ip_of(request)):
        audit_record(
            action=AuditAction.LOGIN_FAILED,
            actor=Actor.anonymous(label=username),
            resource_type=USER_RESOURCE,
            resource_id=None,
            practice_id=None,
            detail={"username": username},
        )


_M2M_OPS = {"post_add": "add", "post_remove": "remove", "pre_clear": "clear"}


def _record_m2m(
    *,
    action: AuditAction,
    resource_type: str,
    field: str,
    instance: Any,
    reverse: bool,
    op: str,
    pk_set: Any,
    model: Any,
) -> None:
    from audit.services import audit_record

    actor = current_audit_context().actor
    if op == "clear":
        # pre_clear: read which rows go, before they are gone.
        pk_set = set(getattr(instance, field).values_list("pk", flat=True))
    ids = sorted(str(pk) for pk in (pk_set or ()))
    if reverse:
        # e.g. group.user_set.add(user): record one event per affected user/group.
        for pk in ids:
            audit_record(
                action=action,
                actor=actor,
                resource_type=resource_type,
                resource_id=pk,
                practice_id=None,
                detail={"op": op, field: [str(instance.pk)]},
            )
        return
    audit_record(
        action=action,
        actor=actor,
        resource_type=resource_type,
        resource_id=instance.pk,
        practice_id=None,
        detail={"op": op, field: ids},
    )


def _reverse_name(model: Any, field: str) -> str:
    return {"groups": "user_set", "user_permissions": "user_set", "permissions": "group_set"}[field]


def _m2m_receiver(action: AuditAction, resource_type: str, field: str) -> Any:
    def handler(
        sender: Any, instance: Any, action: str, reverse: bool, model: Any, pk_set: Any, **_: Any
    ) -> None:
        op = _M2M_OPS.get(action)
        if op is None:
            return
        if reverse and op == "clear":
            # group.user_set.clear(): the affected users are the ones about to be removed.
            pk_set = set(
                getattr(instance, _reverse_name(model, field)).values_list("pk", flat=True)
            )
            op = "remove"
        _record_m2m(
            action=audit_action,
            resource_type=resource_type,
            field=field,
            instance=instance,
            reverse=reverse,
            op=op,
            pk_set=pk_set,
            model=model,
        )

    audit_action = action
    return handler


def _connect_m2m() -> None:
    user_model = get_user_model()
    receivers = [
        (user_model.groups.through, AuditAction.GROUP_CHANGE, USER_RESOURCE, "groups"),
        (
            user_model.user_permissions.through,
            AuditAction.PERMISSION_CHANGE,
            USER_RESOURCE,
            "user_permissions",
        ),
        (Group.permissions.through, AuditAction.PERMISSION_CHANGE, GROUP_RESOURCE, "permissions"),
    ]
    for through, action, resource_type, field in receivers:
        m2m_changed.connect(
            _m2m_receiver(action, resource_type, field),
            sender=through,
            weak=False,
            dispatch_uid=f"audit.m2m.{through._meta.label}",
        )


_connect_m2m()
