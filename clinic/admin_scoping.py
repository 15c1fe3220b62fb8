"""Tenant scoping for admin classes: a staff member only ever reaches their own practices' rows.

`PracticeScopedAdminMixin` goes first in an admin's bases (any app's: clinic, voiceagent,
audit). Invariant: every path by which the admin turns a URL or a form value into a row goes
through a scoped queryset, and an object outside the scope answers 404 (the same as an object
that does not exist, so ids cannot be probed):

- changelist, search, actions, popups and raw-id lookups: `get_queryset` is scoped;
- change/delete/history URLs: `get_object` raises Http404 outside the scope;
- autocomplete: Django's AutocompleteJsonView reads the target admin's (scoped) `get_queryset`
  and `get_search_results`;
- foreign-key choices and the raw-id widget's label: limited to the scope, so another
  practice's row can neither be chosen nor have its name shown back;
- list filters on a practice (`ScopedRelatedFieldListFilter`) list only practices in scope.

Object permissions follow the role held in the object's practice (clinic.roles), not the union
of the user's groups, so a role held in one practice grants nothing in another.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth import get_permission_codename, get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from clinic.models import Practice
from clinic.roles import role_allows
from clinic.selectors import practice_ids_for_user, roles_for_user


def scope_queryset(qs: QuerySet, *, user: Any, practice_path: str) -> QuerySet:
    """Limit a queryset to the user's practices along `practice_path` ("pk" for Practice)."""
    practice_ids = practice_ids_for_user(user)
    if practice_ids is None:
        return qs
    return qs.filter(**{f"{practice_path}__in": practice_ids})


def default_practice_path(model: type[models.Model]) -> str | None:
    """How a model reaches its practice: "pk" for Practice, "practice" for a row with that FK."""
    if issubclass(model, Practice):
        return "pk"
    try:
        field = model._meta.get_field("practice")
    except Exception:
        return None
    return "practice" if field.is_relation else "practice_id"


def scoped_choices(
    model: type[models.Model], *, user: Any, admin_site: admin.AdminSite
) -> QuerySet | None:
    """The rows of `model` a user may pick in a form, or None if the model is not tenant data."""
    model_admin = admin_site._registry.get(model)
    if isinstance(model_admin, PracticeScopedAdminMixin):
        path = model_admin.practice_path
    else:
        path = default_practice_path(model)
    if path is not None:
        return scope_queryset(model._default_manager.all(), user=user, practice_path=path)
    if model is get_user_model():
        # Staff of the user's practices only: usernames of other tenants stay hidden.
        practice_ids = practice_ids_for_user(user)
        users = model._default_manager.all()
        if practice_ids is None:
            return users
        return users.filter(staff_memberships__practice_id__in=practice_ids).distinct()
    return None


class ScopedForeignKeyRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id widget that shows the label of a row only if that row is in scope."""

    def __init__(self, *args: Any, scoped_queryset: QuerySet, **kwargs: Any) -> None:
        self.scoped_queryset = scoped_queryset
        super().__init__(*args, **kwargs)

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        """Label and link for an in-scope value; nothing for any other value."""
        key = self.rel.get_related_field().name
        try:
            in_scope = self.scoped_queryset.filter(**{key: value}).exists()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        if not in_scope:
            return "", ""
        return super().label_and_url_for_value(value)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-field filter listing only the rows in the user's scope."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        """Choices limited to the scope."""
        choices = scoped_choices(
            field.related_model, user=request.user, admin_site=model_admin.admin_site
        )
        if choices is None:
            return super().field_choices(field, request, model_admin)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False,
            ordering=ordering,
            limit_choices_to={"pk__in": choices.values("pk")},
        )


class PracticeScopedAdminMixin:
    """Scopes a ModelAdmin to the practices of the logged-in staff member (see module doc)."""

    # Lookup from the admin's model to Practice; None: derived (see default_practice_path).
    practice_path: str | None = None

    def __init__(self, model: type[models.Model], admin_site: admin.AdminSite) -> None:
        super().__init__(model, admin_site)
        if self.practice_path is None:
            path = default_practice_path(model)
            if path is None:
                raise TypeError(
                    f"{type(self).__name__}: {model._meta.label} has no `practice` field; "
                    "set practice_path to the lookup that reaches Practice."
                )
            self.practice_path = path

    # -- reading -------------------------------------------------------------------------
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """The admin's queryset, limited to the user's practices."""
        qs = super().get_queryset(request)
        return scope_queryset(qs, user=request.user, practice_path=self.practice_path)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """The object if it is in scope; 404 otherwise (never a redirect that confirms it exists)."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        return obj

    # -- object permissions by the role held in the object's practice -----------------------
    def practice_id_of(self, obj: models.Model) -> uuid.UUID | None:
        """The practice an object belongs to."""
        if self.practice_path == "pk":
            return obj.pk
        target: Any = obj
        *hops, last = self.practice_path.split("__")
        for hop in hops:
            target = getattr(target, hop, None)
            if target is None:
                return None
        value = getattr(target, last if last.endswith("_id") else f"{last}_id", None)
        if value is None or isinstance(value, uuid.UUID):
            return value
        # Plain-id columns (e.g. the audit table's practice_id text) compare as UUIDs too.
        try:
            return uuid.UUID(str(value))
        except ValueError:
            return None

    def role_allows(self, request: HttpRequest, obj: models.Model, action: str) -> bool:
        """Whether the user's role in obj's practice grants `action` on this model."""
        user = request.user
        if user.is_superuser:
            return True
        role = roles_for_user(user).get(self.practice_id_of(obj))
        codename = get_permission_codename(action, self.opts)
        return role_allows(role, f"{self.opts.app_label}.{codename}")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """View (or change) permission, for this object's practice when there is one."""
        allowed = super().has_view_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return self.role_allows(request, obj, "view") or self.role_allows(request, obj, "change")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Change permission, for this object's practice when there is one."""
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return self.role_allows(request, obj, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Delete permission, for this object's practice when there is one."""
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None:
            return allowed
        return self.role_allows(request, obj, "delete")

    # -- forms ---------------------------------------------------------------------------
    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Foreign-key choices (dropdown, autocomplete, raw id) limited to the user's scope."""
        if "queryset" not in kwargs:
            choices = scoped_choices(
                db_field.related_model, user=request.user, admin_site=self.admin_site
            )
            if choices is not None and db_field.related_model is Practice:
                choices = self._practices_where_role_may_write(request, choices)
            if choices is not None:
                kwargs["queryset"] = choices
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if (
            formfield is not None
            and "queryset" in kwargs
            and type(formfield.widget) is ForeignKeyRawIdWidget
        ):
            formfield.widget = ScopedForeignKeyRawIdWidget(
                db_field.remote_field,
                self.admin_site,
                using=kwargs.get("using"),
                scoped_queryset=kwargs["queryset"],
            )
        return formfield

    def _practices_where_role_may_write(
        self, request: HttpRequest, practices: QuerySet
    ) -> QuerySet:
        # A new or moved row may only land in a practice where the role may add/change it.
        if request.user.is_superuser:
            return practices
        opts = self.opts
        roles = roles_for_user(request.user)
        allowed = [
            practice_id
            for practice_id, role in roles.items()
            if role_allows(role, f"{opts.app_label}.{get_permission_codename('add', opts)}")
            or role_allows(role, f"{opts.app_label}.{get_permission_codename('change', opts)}")
        ]
        return practices.filter(pk__in=allowed)
