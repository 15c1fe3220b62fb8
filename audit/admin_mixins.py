"""Recording admin reads of PHI: mix `AuditedReadAdminMixin` into a PHI model's ModelAdmin.

Invariant: a change view that shows an object records one VIEW event for it, and every
changelist page records one LIST_VIEW event naming the ids of the rows shown on that page
(not the whole queryset), in the request's transaction, before the page is returned.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse

from audit.actions import AuditAction
from audit.services import audit_record

MAX_IDS_PER_EVENT = 500  # a changelist page is at most list_per_page (default 100) rows


class AuditedReadAdminMixin:
    """Records change-view reads and changelist reads (ids shown) of the admin's model."""

    audit_resource_type: str = ""  # e.g. "clinic.patient"; default: the model's label, lowercased
    audit_view_action: AuditAction = AuditAction.RECORD_VIEW
    audit_list_action: AuditAction = AuditAction.RECORD_LIST_VIEW
    audit_practice_field: str | None = "practice_id"

    def _audit_resource_type(self) -> str:
        return self.audit_resource_type or self.model._meta.label_lower  # type: ignore[attr-defined]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """The admin change view; a GET that shows the object records a VIEW event."""
        response = super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        if request.method == "GET" and response.status_code == HTTPStatus.OK:
            obj = (getattr(response, "context_data", None) or {}).get("original")
            if obj is not None:
                audit_record(
                    action=self.audit_view_action,
                    actor=request.user,
                    resource_type=self._audit_resource_type(),
                    resource_id=obj.pk,
                    practice_id=self._audit_practice_id(obj),
                    detail={"view": "admin_change"},
                )
        return response

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The admin changelist; records a LIST_VIEW event with the ids on the page shown."""
        response = super().changelist_view(request, extra_context)  # type: ignore[misc]
        cl = (getattr(response, "context_data", None) or {}).get("cl")
        if cl is not None and response.status_code == HTTPStatus.OK:
            rows = list(cl.result_list)
            by_practice: dict[str | None, list[str]] = {}
            for obj in rows:
                practice = self._audit_practice_id(obj)
                by_practice.setdefault(None if practice is None else str(practice), []).append(
                    str(obj.pk)
                )
            # One event per practice shown, so each practice's officer sees its own reads.
            for practice, ids in by_practice.items() or [(None, [])]:
                audit_record(
                    action=self.audit_list_action,
                    actor=request.user,
                    resource_type=self._audit_resource_type(),
                    resource_id=None,
                    practice_id=practice,
                    detail={
                        "view": "admin_changelist",
                        "ids": ids[:MAX_IDS_PER_EVENT],
                        "count": len(ids),
                        "page": int(getattr(cl, "page_num", 0)),
                        "search": bool(getattr(cl, "query", "")),
                    },
                )
        return response

    def _audit_practice_id(self, obj: Any) -> Any:
        if not self.audit_practice_field:
            return None
        return getattr(obj, self.audit_practice_field, None)
