"""The read-only audit admin: filtered lists, streamed CSV/JSONL exports, disclosures report.

Invariant: nobody, superusers included, can add, change or delete an audit event here (no
add/change/delete permission, no bulk actions); every list is scoped to the viewer's
practices (`audit_practice_scope`); exports and the disclosure report need the
`audit.export_auditevent` permission and are themselves audited.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audit.actions import AuditAction
from audit.exports import export_csv_lines, export_jsonl_lines
from audit.models import AuditEvent
from audit.selectors import CHAIN_ORDER, audit_practice_scope, disclosure_event_list
from audit.services import audit_export_record

EXPORT_PERMISSION = "audit.export_auditevent"
FORMATS = {
    "csv": ("text/csv", export_csv_lines),
    "jsonl": ("application/x-ndjson", export_jsonl_lines),
}


class ActionFilter(admin.SimpleListFilter):
    """Filter by action code."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        """Every known action."""
        return [(str(int(a)), f"{int(a)} {a.label}") for a in AuditAction]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        """Apply the chosen action."""
        value = self.value()
        return queryset.filter(action=int(value)) if value and value.isdigit() else queryset


def parse_when(value: str | None, *, end: bool = False) -> datetime | None:
    """A date or datetime from a query string (a bare date `until` means the end of that day)."""
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(f"not a date: {value!r} (use YYYY-MM-DD)")
        parsed = datetime.combine(day, time.max if end else time.min)
    return (
        parsed
        if timezone.is_aware(parsed)
        else timezone.make_aware(parsed, timezone.get_current_timezone())
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only list of audit events with filters and streamed exports."""

    list_display = (
        "seq",
        "ts",
        "actor_type",
        "actor_label",
        "action_label",
        "resource_type",
        "resource_id",
        "practice_id",
    )
    list_filter = (("ts", admin.DateFieldListFilter), ActionFilter, "actor_type", "resource_type")
    search_fields = ("=resource_id", "=actor_id", "=request_id", "=practice_id", "actor_label")
    readonly_fields = [*(f.name for f in AuditEvent._meta.fields), "seq", "prev_hash", "hash"]
    ordering = ("-id",)
    actions = None  # no bulk actions at all: nothing here may modify events
    show_full_result_count = False  # no COUNT(*) over millions of rows per page
    change_list_template = "audit/auditevent_change_list.html"
    # Exact-match filters by URL (patient = resource id), allowed in lookup_allowed below.
    extra_lookups = ("resource_id", "actor_id", "practice_id", "ts__gte", "ts__lt", "action")

    @admin.display(description="seq", ordering="link__seq")
    def seq(self, event: AuditEvent) -> int | None:
        """The event's place in the chain (blank while pending)."""
        return event.seq

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Never: events are written only by audit_record."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: events are immutable."""
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Never: events are retained (six years at least) and immutable."""
        return False

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        """Allow the exact-match filters above besides the list filters."""
        return lookup in self.extra_lookups or super().lookup_allowed(lookup, value, request)

    def get_queryset(self, request: HttpRequest) -> Any:
        """Only the viewer's practices' events (all for superusers)."""
        scope = audit_practice_scope(request.user)
        events = super().get_queryset(request).select_related("link")
        return events if scope is None else events.filter(practice_id__in=scope)

    def get_urls(self) -> list:
        """Add the export and disclosure views."""
        wrap = self.admin_site.admin_view
        return [
            path("export/", wrap(self.export_view), name="audit_auditevent_export"),
            path("disclosures/", wrap(self.disclosures_view), name="audit_auditevent_disclosures"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """The list, with export links for those allowed to export."""
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm(EXPORT_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def _require_export(self, request: HttpRequest) -> None:
        if not (self.has_view_permission(request) and request.user.has_perm(EXPORT_PERMISSION)):
            raise PermissionDenied

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """Stream the filtered list as CSV or JSON Lines (?format=csv|jsonl, list filters)."""
        self._require_export(request)
        fmt = request.GET.get("format", "csv")
        if fmt not in FORMATS:
            raise Http404("format must be csv or jsonl")
        params = request.GET.copy()
        params.pop("format", None)
        request.GET = params
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request).order_by(*CHAIN_ORDER)
        audit_export_record(actor=request.user, kind="events", fmt=fmt, filters=params.dict())
        content_type, lines = FORMATS[fmt]
        response = StreamingHttpResponse(lines(events), content_type=content_type)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
        return response

    def disclosures_view(self, request: HttpRequest) -> HttpResponse:
        """Accounting of disclosures for one patient (?patient=<uuid>&since=&until=&format=)."""
        self._require_export(request)
        raw_patient = request.GET.get("patient", "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Accounting of disclosures",
        }
        if not raw_patient:
            return TemplateResponse(
                request, "audit/disclosures.html", {**context, "form_only": True}
            )
        try:
            patient_id = str(uuid.UUID(raw_patient))
            since = parse_when(request.GET.get("since"))
            until = parse_when(request.GET.get("until"), end=True)
        except ValueError as exc:
            return TemplateResponse(
                request,
                "audit/disclosures.html",
                {**context, "form_only": True, "error": str(exc)},
                status=400,
            )
        scope = audit_practice_scope(request.user)
        events = disclosure_event_list(
            practice_ids=scope, patient_id=patient_id, since=since, until=until
        )
        if scope is not None and not events.exists():
            # Indistinguishable from "no such patient in your practices": never say which.
            raise Http404("no disclosures for this patient in your practices")
        fmt = request.GET.get("format", "html")
        audit_export_record(
            actor=request.user,
            kind="disclosures",
            fmt=fmt,
            filters=request.GET.dict(),
            patient_id=patient_id,
        )
        if fmt == "csv":
            response = StreamingHttpResponse(export_csv_lines(events), content_type="text/csv")
            response["Content-Disposition"] = f'attachment; filename="disclosures-{patient_id}.csv"'
            return response
        rows = list(events[:5000])
        return TemplateResponse(
            request,
            "audit/disclosures.html",
            {
                **context,
                "patient_id": patient_id,
                "since": since,
                "until": until,
                "events": rows,
                "truncated": len(rows) == 5000,
            },
        )
