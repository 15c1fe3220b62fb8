"""Request-scoped audit context: every event recorded during a request carries its id and ip.

Invariant: the request id is a fresh uuid4 unless a well-formed X-Request-ID came from the
proxy; the actor is the request's user (resolved lazily when an event is recorded).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse

from audit.context import audit_context

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_for(request: HttpRequest) -> str:
    """The proxy's X-Request-ID when well formed, else a new uuid4."""
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else uuid.uuid4().hex


class AuditContextMiddleware:
    """Put request id, client ip and user into the audit context (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_for(request)
        request.audit_request_id = request_id
        user: Any = getattr(request, "user", None)
        with audit_context(request_id=request_id, ip=request.META.get("REMOTE_ADDR"), actor=user):
            response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request_id)
        return response
