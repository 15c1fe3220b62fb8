"""Twilio request signatures, checked against the configured public URL.

Invariant: the URL a signature is checked against is built from `settings.PUBLIC_BASE_URL`
and the request path, never from the Host header, so a spoofed Host cannot make a forged
request verify. Without an auth token or a public base URL nothing verifies (fail closed).
"""

from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from twilio.request_validator import RequestValidator


def public_url(path: str, *, websocket: bool = False) -> str:
    """Absolute URL Twilio uses for `path` (with query), https or wss, from PUBLIC_BASE_URL."""
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    if not base:
        return ""
    if not path.startswith("/"):
        raise ValueError("path must start with '/' (it is joined to PUBLIC_BASE_URL)")
    url = base + path
    if websocket:
        parts = urlsplit(url)
        scheme = {"https": "wss", "http": "ws"}.get(parts.scheme, parts.scheme)
        url = urlunsplit((scheme, *parts[1:]))
    return url


def validate_twilio_signature(*, url: str, params: Mapping, signature: str) -> bool:
    """True if `signature` is Twilio's signature of `url` and `params` under TWILIO_AUTH_TOKEN."""
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not url or not signature:
        return False
    return RequestValidator(token).validate(url, params, signature)


def request_signature_valid(request) -> bool:
    """True if a Django request carries a valid X-Twilio-Signature for its public URL."""
    url = public_url(request.get_full_path())
    # QueryDict keeps repeated keys; RequestValidator reads them with getlist.
    return validate_twilio_signature(
        url=url,
        params=request.POST,
        signature=request.headers.get("X-Twilio-Signature", ""),
    )
