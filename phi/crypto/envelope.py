"""The envelope wire format for one encrypted value (AES-256-GCM).

    envelope = version (1 byte) | key id (16 bytes, UUID) | nonce (12 bytes) | ciphertext || tag (16 bytes)

Associated data = version | key id | context, where the context binds the value to
`app_label.model.field`, the row's primary key and its key scope (practice). A ciphertext copied
into another column, row or practice therefore fails authentication, as does any change to the
header. The column stores the envelope bytes as they are (bytea on Postgres, BLOB on SQLite).

Invariant: `open_sealed` either returns the exact plaintext that was sealed with that context or
raises `InvalidEnvelope`; it never returns partial or garbage output.
"""

import enum
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class EnvelopeVersion(enum.IntEnum):
    """Envelope format versions; a new layout gets a new number, old ones stay readable."""

    V1 = 1


KEY_ID_LENGTH = 16
NONCE_LENGTH = 12
TAG_LENGTH = 16
HEADER_LENGTH = 1 + KEY_ID_LENGTH
MIN_ENVELOPE_LENGTH = HEADER_LENGTH + NONCE_LENGTH + TAG_LENGTH
_V1 = int(EnvelopeVersion.V1)
_V1_BYTE = bytes([_V1])
_CIPHERTEXT_START = HEADER_LENGTH + NONCE_LENGTH


class InvalidEnvelope(Exception):
    """The envelope is malformed, of an unknown version, or fails authentication."""


@dataclass(frozen=True, slots=True)
class ParsedEnvelope:
    """The parts of a well-formed envelope, before authentication."""

    version: EnvelopeVersion
    key_id: bytes
    nonce: bytes
    ciphertext: bytes

    @property
    def header(self) -> bytes:
        """version | key id: authenticated as part of the associated data."""
        return bytes([self.version]) + self.key_id


def value_context(*, label: str, row_id: object, scope_id: object) -> bytes:
    """The associated-data context binding a value to its column, row and key scope."""
    return f"{label}\x1f{row_id}\x1f{scope_id}".encode()


def seal(*, aead: AESGCM, key_id: bytes, plaintext: bytes, context: bytes) -> bytes:
    """Encrypt plaintext under a data key into a V1 envelope (raw bytes)."""
    return _seal_with_nonce(
        aead=aead, key_id=key_id, plaintext=plaintext, context=context, nonce=os.urandom(12)
    )


def _seal_with_nonce(
    *, aead: AESGCM, key_id: bytes, plaintext: bytes, context: bytes, nonce: bytes
) -> bytes:
    # Private seam for test vectors: production code never chooses a nonce.
    header = _V1_BYTE + key_id
    return header + nonce + aead.encrypt(nonce, plaintext, header + context)


def parse(envelope: bytes) -> ParsedEnvelope:
    """Split an envelope into its parts, checking length and version only."""
    if len(envelope) < MIN_ENVELOPE_LENGTH:
        raise InvalidEnvelope("envelope too short")
    try:
        version = EnvelopeVersion(envelope[0])
    except ValueError:
        raise InvalidEnvelope("unknown envelope version") from None
    return ParsedEnvelope(
        version=version,
        key_id=envelope[1:HEADER_LENGTH],
        nonce=envelope[HEADER_LENGTH : HEADER_LENGTH + NONCE_LENGTH],
        ciphertext=envelope[HEADER_LENGTH + NONCE_LENGTH :],
    )


def open_sealed(*, aead: AESGCM, parsed: ParsedEnvelope, context: bytes) -> bytes:
    """Authenticate and decrypt a parsed envelope with its data key and context."""
    try:
        return aead.decrypt(parsed.nonce, parsed.ciphertext, parsed.header + context)
    except InvalidTag:
        raise InvalidEnvelope("authentication failed") from None


def open_stored(stored: bytes, context: bytes, key_for_id, /) -> bytes:
    """parse + open_sealed in one pass: the hot path of every PHI read.

    `key_for_id(key_id) -> AESGCM` finds the data key. Same checks, same errors, fewer objects.
    """
    if len(stored) < MIN_ENVELOPE_LENGTH or stored[0] != _V1:
        raise InvalidEnvelope("envelope too short or of an unknown version")
    try:
        return key_for_id(stored[1:HEADER_LENGTH]).decrypt(
            stored[HEADER_LENGTH:_CIPHERTEXT_START],
            stored[_CIPHERTEXT_START:],
            stored[:HEADER_LENGTH] + context,
        )
    except InvalidTag:
        raise InvalidEnvelope("authentication failed") from None
