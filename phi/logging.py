"""PHI never reaches a log line or an error report: a redaction filter, a structured formatter
that carries request and call ids instead of identities, and an exception-report filter.

- `PHIRedactionFilter` is installed on every handler (settings.LOGGING). It renders the
  message with its arguments, redacts it (with the current scope's known values, see
  `phi.redaction.context`), redacts the formatted exception and stack, and any string given in
  `extra=`. It marks the record so a second handler does not redo the work.
- `StructuredFormatter` writes one JSON object per line: time, level, logger, the (already
  redacted) message, `request_id` / `call_id` from `log_ids()`, and the exception text.
- `PHISafeExceptionReporterFilter` (DEFAULT_EXCEPTION_REPORTER_FILTER) and
  `PHISafeExceptionReporter` (DEFAULT_EXCEPTION_REPORTER) scrub error pages and the e-mails
  sent to admins: request parameters, cookies, META, local variables, the exception message,
  and finally the whole rendered report.

Invariant: redaction failures fail closed: if the engine raises, the line says so and the
original text is dropped, never logged.
"""

import json
import logging
import re
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from phi.redaction.engine import apply_masks, find_spans

REDACTION_FAILED = "[REDACTION FAILED: message dropped]"
REDACTED = "[REDACTED]"
# Request parameters and local variables with these in their names are dropped whole: a
# bare first name or a free-text note has no shape the engine could recognise.
PHI_FIELD_HINTS = (
    "name",
    "birth",
    "dob",
    "phone",
    "email",
    "address",
    "street",
    "city",
    "zip",
    "mrn",
    "member",
    "ssn",
    "social",
    "note",
    "transcript",
    "summary",
    "reason",
    "patient",
    "caller",
    "utterance",
    "message",
    "body",
    "text",
    "known",
)
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__
) | {"message", "asctime", "request_id", "call_id", "phi_redacted"}

_log_ids: ContextVar[tuple[str | None, str | None]] = ContextVar(
    "phi_log_ids", default=(None, None)
)


@contextmanager
def log_ids(*, request_id: str | None = None, call_id: str | None = None) -> Iterator[None]:
    """Tag every log line written inside the block with this request or call id."""
    outer_request, outer_call = _log_ids.get()
    token = _log_ids.set((request_id or outer_request, call_id or outer_call))
    try:
        yield
    finally:
        _log_ids.reset(token)


def log_ids_bind(*, request_id: str | None = None, call_id: str | None = None) -> None:
    """Tag the rest of the current context (e.g. a Channels consumer's connection) with ids.

    A consumer has no single block to wrap, but Channels runs all of one connection's
    handlers in one task, so binding in `websocket_connect` covers the whole call and every
    task it starts afterwards.
    """
    outer_request, outer_call = _log_ids.get()
    _log_ids.set((request_id or outer_request, call_id or outer_call))


def current_log_ids() -> tuple[str | None, str | None]:
    """(request_id, call_id) in force here."""
    request_id, call_id = _log_ids.get()
    if request_id is None:
        request_id = _audit_request_id()
    return request_id, call_id


def _audit_request_id() -> str | None:
    # The audit middleware may have opened the request scope first; reuse its id.
    try:
        from audit.context import current_audit_context  # optional coupling: audit may be absent
    except ImportError:  # pragma: no cover - audit is always installed in this project
        return None
    request_id = current_audit_context().request_id
    return str(request_id) if request_id else None


# Machine identifiers that are never PHI and that operators need intact to follow a request
# or a call through the logs: UUIDs, Twilio SIDs (CallSid CA…, StreamSid MZ…), hex digests.
MACHINE_ID_RE = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\b[A-Z]{2}[0-9a-f]{32}\b"
    r"|\b[0-9a-f]{32,128}\b"
)


def safe_redact(text: str) -> str:
    """Redacted text, or a fixed marker if redaction itself failed (fail closed).

    Spans that fall on a machine identifier (UUID, Twilio SID, digest) are not masked: the
    digits inside a CallSid are not a phone number, and the id is what ties log lines together.
    """
    try:
        spans = find_spans(text)
        if spans:
            ids = [(m.start(), m.end()) for m in MACHINE_ID_RE.finditer(text)]
            if ids:
                spans = [
                    span
                    for span in spans
                    if not any(start < span.end and span.start < end for start, end in ids)
                ]
        return apply_masks(text, spans)
    except Exception:  # any failure must drop the text, not leak it
        return REDACTION_FAILED


def is_phi_name(name: str) -> bool:
    """True for a parameter or variable name that suggests PHI ("first_name", "dob")."""
    lowered = name.lower()
    return any(hint in lowered for hint in PHI_FIELD_HINTS)


class PHIRedactionFilter(logging.Filter):
    """Mask PHI in a record's message, arguments, exception, stack and extra strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place (once) and let it through."""
        if getattr(record, "phi_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not leak its arguments
            message = str(record.msg)
        record.msg = safe_redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = safe_redact(record.exc_text)
        # The formatter would re-render the traceback from exc_info; exc_text now stands in.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = safe_redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key in _STANDARD_ATTRS:
                continue
            if isinstance(value, str):
                setattr(record, key, REDACTED if is_phi_name(key) else safe_redact(value))
        request_id, call_id = current_log_ids()
        record.request_id = getattr(record, "request_id", None) or request_id
        record.call_id = getattr(record, "call_id", None) or call_id
        record.phi_redacted = True
        return True


class StructuredFormatter(logging.Formatter):
    """One JSON object per line with request/call ids; run after PHIRedactionFilter."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        request_id, call_id = current_log_ids()
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id,
            "call_id": getattr(record, "call_id", None) or call_id,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exc"] = record.exc_text
        return json.dumps(payload, default=str)


class PHISafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: PHI-named parameters and variables dropped, the rest redacted."""

    def get_post_parameters(self, request: Any) -> Any:
        """POST with PHI fields dropped and every other value redacted."""
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleaned = params.copy()
        for key in cleaned:
            values = cleaned.getlist(key)
            cleaned.setlist(
                key,
                [
                    REDACTED
                    if is_phi_name(key)
                    else (safe_redact(v) if isinstance(v, str) else REDACTED)
                    for v in values
                ],
            )
        return cleaned

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        """Local variables: PHI-named ones dropped, the rest shown as redacted reprs."""
        variables = super().get_traceback_frame_variables(request, tb_frame)
        cleaned = []
        for name, value in variables:
            if value == self.cleansed_substitute:
                cleaned.append((name, value))
            elif is_phi_name(name):
                cleaned.append((name, REDACTED))
            else:
                cleaned.append((name, safe_redact(_short_repr(value))))
        return cleaned


def _short_repr(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not break the error report
        return "<unrepresentable>"
    return text[:4096]


class PHISafeExceptionReporter(ExceptionReporter):
    """Error pages and admin e-mails with request data and the whole report redacted."""

    def get_traceback_data(self) -> dict[str, Any]:
        """The template context with query parameters, cookies and the message redacted."""
        data = super().get_traceback_data()
        if data.get("exception_value"):
            data["exception_value"] = safe_redact(str(data["exception_value"]))
        if "request_GET_items" in data:
            data["request_GET_items"] = [
                (k, REDACTED if is_phi_name(k) else safe_redact(str(v)))
                for k, v in data["request_GET_items"]
            ]
        if "request_COOKIES_items" in data:
            data["request_COOKIES_items"] = [
                (k, REDACTED) for k, _ in data["request_COOKIES_items"]
            ]
        if "request_meta" in data:
            data["request_meta"] = {
                k: safe_redact(str(v)) for k, v in dict(data["request_meta"]).items()
            }
        return data

    def get_traceback_html(self) -> str:
        """The HTML report, redacted once more as a whole."""
        return safe_redact(str(super().get_traceback_html()))

    def get_traceback_text(self) -> str:
        """The text report (admin e-mails), redacted once more as a whole."""
        return safe_redact(str(super().get_traceback_text()))
