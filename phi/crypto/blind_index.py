"""Blind indexes: exact-match search over encrypted values without storing plaintext.

index = HMAC-SHA256(scope index key, kind || 0x00 || normalised value), hex-encoded.
The index key is per scope (practice), so equal values in two practices index differently and
an index column reveals nothing across tenants. Callers normalise first (phi.crypto.normalize).
"""

import hashlib
import hmac

from phi.crypto.keys import index_key

BLIND_INDEX_LENGTH = 64


def blind_index(*, scope_id: object, kind: str, value: str) -> str:
    """The blind index of an already-normalised value, for one scope and kind of value."""
    if not kind or "\x00" in kind:
        raise ValueError("A blind-index kind is a non-empty name without NUL bytes.")
    message = kind.encode() + b"\x00" + value.encode()
    return hmac.new(index_key(str(scope_id)), message, hashlib.sha256).hexdigest()
