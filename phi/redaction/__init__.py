"""PHI redaction: find names, dates, phone numbers, SSNs, MRNs, e-mail and street addresses,
ages over 89 and the caller's own known values in free text (written or as speech recognition
writes speech) and mask them with typed placeholders such as "[PHONE]".

Public API: `redact(text, *, known=None) -> RedactionResult(text, spans)`, `redact_text`,
`Span`, `Kind`, and the scope API in `phi.redaction.context` (`add_known`, `redaction_scope`).
"""

from .accel import use_fresh_modules
from .patterns import Kind

use_fresh_modules()  # a stale or opted-out compiled build must not shadow the .py sources

from .engine import (  # noqa: E402
    RedactionResult,
    Span,
    backend_install,
    find_spans,
    mask_for,
    redact,
    redact_text,
)

__all__ = [
    "Kind",
    "RedactionResult",
    "Span",
    "backend_install",
    "find_spans",
    "mask_for",
    "redact",
    "redact_text",
]
