"""PHIRedactionMiddleware: request-scoped known values, no-store on PHI pages, request ids."""

import asyncio
import io
import logging
from collections.abc import Iterator

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from phi.logging import current_log_ids
from phi.middleware import NO_STORE, PHIRedactionMiddleware
from phi.redaction import redact_text
from phi.redaction.context import add_known, current_known

from .phi_asserts import assert_no_phi

pytestmark = pytest.mark.urls("tests.phi.urls_redaction")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    console = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    old = console.setStream(buffer)
    try:
        yield buffer
    finally:
        console.setStream(old)


def test_page_showing_known_phi_is_not_cacheable() -> None:
    response = Client().get("/chart/")
    assert response["Cache-Control"] == NO_STORE


def test_page_marked_as_showing_phi_is_not_cacheable() -> None:
    assert Client().get("/flagged/")["Cache-Control"] == NO_STORE


def test_admin_pages_are_not_cacheable_by_path() -> None:
    request = RequestFactory().get("/admin/clinic/patient/")
    response = PHIRedactionMiddleware(lambda r: HttpResponse("list"))(request)
    assert response["Cache-Control"] == NO_STORE


def test_public_page_keeps_its_caching() -> None:
    response = Client().get("/public/")
    assert "no-store" not in response.get("Cache-Control", "")


def test_known_values_live_only_for_the_request() -> None:
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        add_known(name="Zephyrine Thornquist")
        seen.append(redact_text("Zephyrine called"))
        return HttpResponse("ok")

    PHIRedactionMiddleware(view)(RequestFactory().get("/x/"))
    assert seen == ["[NAME] called"]
    assert current_known() == {}


def test_what_the_request_logs_is_scrubbed_with_its_known_values(captured: io.StringIO) -> None:
    def view(request: HttpRequest) -> HttpResponse:
        add_known(name="Zephyrine Thornquist", phone="+13125550147")
        logging.getLogger("clinic.admin").info("viewed Zephyrine, phone 3125550147")
        return HttpResponse("ok")

    PHIRedactionMiddleware(view)(RequestFactory().get("/x/"))
    output = captured.getvalue()
    assert "viewed [NAME], phone [PHONE]" in output
    assert_no_phi(output)


def test_request_id_comes_from_a_well_formed_header_and_is_echoed() -> None:
    ids: list[str | None] = []

    def view(request: HttpRequest) -> HttpResponse:
        ids.append(current_log_ids()[0])
        return HttpResponse("ok")

    request = RequestFactory().get("/x/", headers={"X-Request-ID": "abcdef123456"})
    response = PHIRedactionMiddleware(view)(request)
    assert ids == ["abcdef123456"]
    assert response["X-Request-ID"] == "abcdef123456"


def test_malformed_request_id_is_replaced() -> None:
    request = RequestFactory().get("/x/", headers={"X-Request-ID": "<script>"})
    response = PHIRedactionMiddleware(lambda r: HttpResponse("ok"))(request)
    assert response["X-Request-ID"] != "<script>"


async def test_async_requests_keep_their_known_values_apart() -> None:
    async def view(request: HttpRequest) -> HttpResponse:
        add_known(name=request.GET["who"])
        await asyncio.sleep(0.01)
        return HttpResponse(redact_text(f"{request.GET['who']} and Oriana Okoro"))

    middleware = PHIRedactionMiddleware(view)
    first, second = await asyncio.gather(
        middleware(RequestFactory().get("/x/", {"who": "Zephyrine Thornquist"})),
        middleware(RequestFactory().get("/x/", {"who": "Oriana Okoro"})),
    )
    assert first.content == b"[NAME] and Oriana Okoro"
    assert second.content == b"[NAME] and [NAME]"
    assert first["Cache-Control"] == NO_STORE
