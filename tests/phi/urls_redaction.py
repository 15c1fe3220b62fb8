"""URLs for the redaction tests: a view that fails holding PHI, one that shows PHI."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from phi.middleware import mark_shows_phi
from phi.redaction.context import add_known


def boom(request: HttpRequest) -> HttpResponse:
    """Fail with PHI in locals and in the message."""
    first_name = request.POST.get("first_name", "")
    add_known(name="Zephyrine Thornquist")
    raise ValueError(f"could not schedule {first_name} Thornquist at 312-555-0147")


def chart(request: HttpRequest) -> HttpResponse:
    """A page that shows a patient's values."""
    add_known(name="Zephyrine Thornquist", phone="+13125550147")
    return HttpResponse("Zephyrine Thornquist, 312-555-0147")


def flagged(request: HttpRequest) -> HttpResponse:
    """A page marked as showing PHI without known values."""
    mark_shows_phi(request)
    return HttpResponse("ok")


def public(request: HttpRequest) -> HttpResponse:
    """A page with no PHI."""
    return HttpResponse("opening hours")


urlpatterns = [
    path("boom/", boom),
    path("chart/", chart),
    path("flagged/", flagged),
    path("public/", public),
]
