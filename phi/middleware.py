"""PHIRedactionMiddleware: one redaction scope per request, no-store on pages that show PHI.

For each request it opens a fresh redaction scope (`phi.redaction.context`) and a log-id
scope (request id from a valid `X-Request-ID` or a new uuid4, echoed back in the response),
so everything the request logs passes the filter with the request's own known values. Views
and admin pages that load a patient call `phi.redaction.context.add_known(...)` with its
values, or `mark_shows_phi(request)`; either, or a path under `PHI_NO_STORE_PATH_PREFIXES`
(default: the admin), makes the response `Cache-Control: no-store, private`, so no browser
or proxy keeps a copy of a page with PHI on it.

Invariant: the scope ends with the request, sync or async; nothing here logs a value.
"""

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

from phi.logging import log_ids
from phi.redaction import context

NO_STORE = "no-store, private"
_REQUEST_ID_RE = re.compile(r"[A-Za-z0-9\-]{8,64}")
_SHOWS_PHI_ATTR = "_phi_shows_phi"


def mark_shows_phi(request: HttpRequest) -> None:
    """Say that this response shows PHI, so it must not be cached anywhere."""
    setattr(request, _SHOWS_PHI_ATTR, True)


def request_id_for(request: HttpRequest) -> str:
    """The audit middleware's id, else the caller's well-formed X-Request-ID, else a fresh one."""
    audit_id = getattr(request, "audit_request_id", None)
    if audit_id:
        return str(audit_id)
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID_RE.fullmatch(given) else uuid.uuid4().hex


class PHIRedactionMiddleware:
    """Request-scoped redaction context and log ids; no-store on PHI pages."""

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], Any]
    ) -> None:  # Any: sync response or awaitable
        self.get_response = get_response
        self.prefixes = tuple(getattr(settings, "PHI_NO_STORE_PATH_PREFIXES", ("/admin/",)))
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        """Run the view inside the request's redaction and log-id scopes."""
        if iscoroutinefunction(self):
            return self._acall(request)
        request_id = request_id_for(request)
        with context.redaction_scope(), log_ids(request_id=request_id):
            response = self.get_response(request)
            self._finish(request, response, request_id)
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_for(request)
        with context.redaction_scope(), log_ids(request_id=request_id):
            get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
            response = await get_response(request)
            self._finish(request, response, request_id)
        return response

    def _finish(self, request: HttpRequest, response: HttpResponseBase, request_id: str) -> None:
        shows_phi = (
            getattr(request, _SHOWS_PHI_ATTR, False)
            or bool(context.current_known())
            or request.path.startswith(self.prefixes)
        )
        if shows_phi:
            response["Cache-Control"] = NO_STORE
            response["Pragma"] = "no-cache"
        response.setdefault("X-Request-ID", request_id)
