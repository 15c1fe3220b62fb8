"""PHI never reaches log lines or error reports: the filter, the formatter, the reporter."""

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client, RequestFactory, override_settings

from phi import logging as phi_logging
from phi.logging import (
    REDACTION_FAILED,
    PHIRedactionFilter,
    PHISafeExceptionReporter,
    StructuredFormatter,
    current_log_ids,
    log_ids,
    log_ids_bind,
)
from phi.redaction.context import add_known, redaction_scope

from .phi_asserts import PATIENT, assert_no_phi


def _fail(message: str) -> None:
    raise ValueError(message)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The configured console handler, writing into a buffer for the test."""
    root = logging.getLogger()
    console = next(h for h in root.handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    old = console.setStream(buffer)
    try:
        yield buffer
    finally:
        console.setStream(old)


def test_every_configured_handler_carries_the_redaction_filter() -> None:
    for name, handler in settings.LOGGING["handlers"].items():
        assert "phi_redact" in handler.get("filters", []), name
    live = [
        h
        for lg in (logging.getLogger(), logging.getLogger("django"))
        for h in lg.handlers
        if not type(h).__module__.startswith("_pytest")  # pytest's own capture handlers
    ]
    assert live
    for handler in live:
        assert any(isinstance(f, PHIRedactionFilter) for f in handler.filters), handler


def test_message_and_arguments_are_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("clinic.views")
    log.warning(
        "caller said %s, callback %s",
        "my date of birth is march third nineteen eighty",
        "312-555-0147",
    )
    output = captured.getvalue()
    assert "[DATE]" in output
    assert "[PHONE]" in output
    assert_no_phi(output)


def test_exception_text_is_redacted(captured: io.StringIO) -> None:
    log = logging.getLogger("voiceagent.tools")
    try:
        _fail("no patient with SSN 912-34-5678 and phone five five five, oh one four seven")
    except ValueError:
        log.exception("lookup failed")
    output = captured.getvalue()
    assert "ValueError" in output
    assert "[SSN]" in output
    assert_no_phi(output)


def test_extra_strings_are_redacted_and_phi_named_extras_dropped(captured: io.StringIO) -> None:
    handler_filter = PHIRedactionFilter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.first_name = "Zephyrine"
    record.detail = "call back at 312-555-0147"
    handler_filter.filter(record)
    assert record.first_name == "[REDACTED]"
    assert record.detail == "call back at [PHONE]"


def test_known_values_of_the_scope_are_masked_in_logs(captured: io.StringIO) -> None:
    with redaction_scope():
        add_known(PATIENT)
        logging.getLogger("clinic.admin").info("opened chart of %s", "Zephyrine Thornquist")
    output = captured.getvalue()
    assert "opened chart of [NAME]" in output
    assert_no_phi(output)


def test_redaction_failure_drops_the_message(
    captured: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(text: str, **kwargs: object) -> list:
        raise RuntimeError("engine down")

    monkeypatch.setattr(phi_logging, "find_spans", broken)
    logging.getLogger("clinic").error("patient %s", "Zephyrine Thornquist")
    output = captured.getvalue()
    assert REDACTION_FAILED in output
    assert_no_phi(output)


def test_structured_formatter_writes_json_with_request_and_call_ids() -> None:
    record = logging.LogRecord(
        "voiceagent", logging.INFO, __file__, 1, "call at %s", ("3:15",), None
    )
    with log_ids(request_id="req-123456", call_id="CA0001"):
        PHIRedactionFilter().filter(record)
        line = json.loads(StructuredFormatter().format(record))
    assert line["msg"] == "call at 3:15"
    assert line["request_id"] == "req-123456"
    assert line["call_id"] == "CA0001"
    assert line["level"] == "INFO"


def test_error_report_scrubs_post_get_locals_and_message() -> None:
    request = RequestFactory().post(
        "/admin/clinic/patient/add/?q=312-555-0147",
        {"first_name": "Zephyrine", "last_name": "Thornquist", "comment": "call 312-555-0147"},
    )
    first_name = "Zephyrine"  # a local variable the report would show
    # As in a request: the view has put the patient it serves into the redaction scope.
    with redaction_scope(PATIENT):
        try:
            _fail(f"could not save {first_name} Thornquist, SSN 912-34-5678")
        except ValueError as exc:
            reporter = PHISafeExceptionReporter(request, type(exc), exc, exc.__traceback__)
            html = reporter.get_traceback_html()
            text = reporter.get_traceback_text()
    for report in (html, text):
        assert "ValueError" in report
        assert_no_phi(report)


@pytest.mark.urls("tests.phi.urls_redaction")
@override_settings(ADMINS=[("Ops", "ops@example.com")], DEBUG=False, ALLOWED_HOSTS=["testserver"])
def test_admin_error_email_contains_no_phi(captured: io.StringIO) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(
        "/boom/?phone=312-555-0147",
        {"first_name": "Zephyrine", "note": "dob march third nineteen eighty"},
    )
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert_no_phi(email.subject)
    assert_no_phi(email.body)
    for alternative, _ in getattr(email, "alternatives", []):
        assert_no_phi(alternative)
    assert_no_phi(captured.getvalue())


async def test_a_consumer_binds_call_id_and_known_values_for_its_tasks(
    captured: io.StringIO,
) -> None:
    async def connection() -> tuple[str | None, str | None]:
        # What the voice consumer does once the caller is verified.
        log_ids_bind(call_id="CA0042")
        add_known(PATIENT)

        async def later_turn() -> None:
            logging.getLogger("voiceagent").info("caller said %s", "it's Zephyrine")

        await asyncio.create_task(later_turn())
        return current_log_ids()

    ids = await asyncio.create_task(connection())
    assert ids[1] == "CA0042"
    assert "caller said it's [NAME]" in captured.getvalue()
    assert_no_phi(captured.getvalue())
    assert current_log_ids()[1] is None  # the binding stayed with the connection's task


def test_machine_identifiers_survive_redaction_in_log_lines():
    from phi.logging import safe_redact

    call_sid = "CA0123456789abcdef0123456789abcdef"
    row_id = "6f1c1f0e-5555-4012-8000-000000000123"
    line = f"call {call_sid} row {row_id} ended; caller said 555 012 3456"
    redacted = safe_redact(line)
    assert call_sid in redacted
    assert row_id in redacted
    assert "555 012 3456" not in redacted
