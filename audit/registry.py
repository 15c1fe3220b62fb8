"""Recording writes of registered models: create, update (changed field names), delete.

Invariant: no write to a registered model is silent. Model signals record save() and delete()
(Django then also sends them for queryset delete() and cascades, because a model with
delete receivers is never fast-deleted). The bulk paths that send no signals are recorded
per row: QuerySet.update() and bulk_update() (ids and field names) and bulk_create(); a
bulk_create whose rows come back without primary keys is refused with AuditBulkOperationRefused.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.db.models.query import QuerySet
from django.db.models.signals import post_delete, post_init, post_save, pre_save

from audit.actions import AuditAction
from audit.context import current_audit_context
from audit.errors import AuditBulkOperationRefused

_SNAPSHOT_ATTR = "_audit_snapshot"
_CHANGED_ATTR = "_audit_changed"


@dataclass(frozen=True, slots=True)
class Registration:
    """How one model is audited."""

    model: type[models.Model]
    resource_type: str
    practice_field: str | None
    create: AuditAction
    update: AuditAction
    delete: AuditAction


_registry: dict[type[models.Model], Registration] = {}


def audit_register(
    model: type[models.Model],
    *,
    resource_type: str,
    practice_field: str | None = "practice_id",
    actions: Mapping[str, AuditAction] | None = None,
) -> Registration:
    """Audit every write of `model`; actions maps "create"/"update"/"delete" to codes."""
    actions = dict(actions or {})
    unknown = set(actions) - {"create", "update", "delete"}
    if unknown:
        raise ValueError(f"audit_register actions keys are create/update/delete, not {unknown}")
    registration = Registration(
        model=model,
        resource_type=resource_type,
        practice_field=practice_field,
        create=AuditAction(actions.get("create", AuditAction.RECORD_CREATE)),
        update=AuditAction(actions.get("update", AuditAction.RECORD_UPDATE)),
        delete=AuditAction(actions.get("delete", AuditAction.RECORD_DELETE)),
    )
    _registry[model] = registration
    uid = f"audit:{model._meta.label}"
    post_init.connect(_remember_loaded_values, sender=model, weak=False, dispatch_uid=uid)
    pre_save.connect(_note_changed_fields, sender=model, weak=False, dispatch_uid=uid)
    post_save.connect(_record_save, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(_record_delete, sender=model, weak=False, dispatch_uid=uid)
    _install_queryset_guards()
    return registration


def audit_registration(model: type[models.Model]) -> Registration | None:
    """The registration for a model (or its concrete parent), or None."""
    model = model._meta.concrete_model
    return _registry.get(model)


def _field_names(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _remember_loaded_values(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    # Raw stored values (ciphertext for encrypted fields), read from __dict__ so no lazy
    # decryption runs just to remember them.
    # A plain copy of the instance dict (a C-level copy, on every row a page loads); only the
    # field attnames in it are ever compared.
    instance.__dict__[_SNAPSHOT_ATTR] = instance.__dict__.copy()


def _note_changed_fields(
    sender: type[models.Model], instance: models.Model, update_fields: Any = None, **_: Any
) -> None:
    snapshot = instance.__dict__.get(_SNAPSHOT_ATTR) or {}
    values = instance.__dict__
    changed = [
        f.name
        for f in _field_names(sender)
        if f.attname in values
        and (
            f.attname not in snapshot
            or not _same_value(f, instance, snapshot[f.attname], values[f.attname])
        )
    ]
    if update_fields is not None:
        changed = [name for name in changed if name in set(update_fields)]
    instance.__dict__[_CHANGED_ATTR] = sorted(changed)


def _same_value(field: models.Field, instance: models.Model, before: Any, after: Any) -> bool:
    # A field that loads a sealed form (an encrypted field) and has since been read holds
    # plaintext now: compare plaintexts, or every field the admin form displayed would count
    # as changed. Duck-typed on `unseal` so audit stays ignorant of phi.
    unseal = getattr(field, "unseal", None)
    if unseal is not None and type(before) is bytes and type(after) is not bytes:
        try:
            before = unseal(instance, before)
        except Exception:  # an unreadable old value cannot be proven unchanged
            return False
    return _same(before, after)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a is b or a == b)
    except Exception:  # an odd value type that cannot compare counts as changed
        return False


def _practice_id(registration: Registration, instance: Any) -> Any:
    if registration.practice_field is None:
        return None
    return getattr(instance, registration.practice_field, None)


def _actor() -> Any:
    return current_audit_context().actor


def _record_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **_: Any
) -> None:
    from audit.services import audit_record

    registration = audit_registration(sender)
    if registration is None:
        return
    if created:
        fields = sorted(f.name for f in _field_names(sender))
        action, detail = registration.create, {"fields": fields}
    else:
        action = registration.update
        detail = {"fields": instance.__dict__.pop(_CHANGED_ATTR, [])}
    if raw:
        detail["raw"] = True  # loaddata
    audit_record(
        action=action,
        actor=_actor(),
        resource_type=registration.resource_type,
        resource_id=instance.pk,
        practice_id=_practice_id(registration, instance),
        detail=detail,
    )
    _remember_loaded_values(sender, instance)


def _record_delete(sender: type[models.Model], instance: models.Model, **_: Any) -> None:
    from audit.services import audit_record

    registration = audit_registration(sender)
    if registration is None:
        return
    audit_record(
        action=registration.delete,
        actor=_actor(),
        resource_type=registration.resource_type,
        resource_id=instance.pk,
        practice_id=_practice_id(registration, instance),
        detail={},
    )


# --- bulk queryset operations --------------------------------------------------------------
# These send no model signals, so they are wrapped once, for every model: an unregistered
# model goes straight to Django; a registered one is recorded per row in the same transaction.

_original: dict[str, Any] = {}
# Set while a wrapped bulk method runs, so the update() Django's bulk_update calls inside it
# is not recorded a second time.
_inside_bulk: ContextVar[bool] = ContextVar("audit_inside_bulk", default=False)


def _install_queryset_guards() -> None:
    if _original:
        return
    _original["update"] = QuerySet.update
    _original["bulk_update"] = QuerySet.bulk_update
    _original["bulk_create"] = QuerySet.bulk_create
    QuerySet.update = _audited_update
    QuerySet.bulk_update = _audited_bulk_update
    QuerySet.bulk_create = _audited_bulk_create


def _audited_update(self: QuerySet, **kwargs: Any) -> int:
    registration = audit_registration(self.model)
    if registration is None or _inside_bulk.get():
        return _original["update"](self, **kwargs)
    from audit.services import audit_record

    field_names = sorted(kwargs)
    with transaction.atomic(using=self.db):
        # Lock the rows first, so the ids we record are exactly the rows we change.
        values = ["pk"] + ([registration.practice_field] if registration.practice_field else [])
        rows = list(self.select_for_update().values_list(*values))
        if not rows:
            return 0
        pks = [row[0] for row in rows]
        count = _original["update"](
            self.model._base_manager.using(self.db).filter(pk__in=pks), **kwargs
        )
        for row in rows:
            audit_record(
                action=registration.update,
                actor=_actor(),
                resource_type=registration.resource_type,
                resource_id=row[0],
                practice_id=row[1] if len(row) > 1 else None,
                detail={"fields": field_names, "bulk": "update"},
            )
    return count


def _audited_bulk_update(self: QuerySet, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
    registration = audit_registration(self.model)
    if registration is None:
        return _original["bulk_update"](self, objs, fields, *args, **kwargs)
    from audit.services import audit_record

    objs = list(objs)
    field_names = sorted(fields)
    with transaction.atomic(using=self.db):
        token = _inside_bulk.set(True)
        try:
            count = _original["bulk_update"](self, objs, fields, *args, **kwargs)
        finally:
            _inside_bulk.reset(token)
        for obj in objs:
            audit_record(
                action=registration.update,
                actor=_actor(),
                resource_type=registration.resource_type,
                resource_id=obj.pk,
                practice_id=_practice_id(registration, obj),
                detail={"fields": field_names, "bulk": "bulk_update"},
            )
    return count


def _audited_bulk_create(self: QuerySet, objs: Any, *args: Any, **kwargs: Any) -> list:
    registration = audit_registration(self.model)
    if registration is None:
        return _original["bulk_create"](self, objs, *args, **kwargs)
    from audit.services import audit_record

    if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
        raise AuditBulkOperationRefused(
            f"bulk_create(ignore_conflicts/update_conflicts) on audited {self.model._meta.label} "
            "cannot tell which rows were written; save() each object instead"
        )
    objs = list(objs)
    fields = sorted(f.name for f in _field_names(self.model))
    with transaction.atomic(using=self.db):
        created = _original["bulk_create"](self, objs, *args, **kwargs)
        if any(obj.pk is None for obj in created):
            raise AuditBulkOperationRefused(
                f"bulk_create on audited {self.model._meta.label} returned rows without primary "
                "keys on this database, so they cannot be audited; save() each object instead"
            )
        for obj in created:
            audit_record(
                action=registration.create,
                actor=_actor(),
                resource_type=registration.resource_type,
                resource_id=obj.pk,
                practice_id=_practice_id(registration, obj),
                detail={"fields": fields, "bulk": "bulk_create"},
            )
            _remember_loaded_values(self.model, obj)
    return created
