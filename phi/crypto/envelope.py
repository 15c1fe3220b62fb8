"""The envelope wire format for one encrypted value (AES-256-GCM).

    envelope = version (1 byte) | key id (16 bytes, UUID) | nonce (12 bytes) | ciphertext || tag (16 bytes)

Associated data = version | key id | context, where the context binds the value to
`app_label.model.field`, the row's primary key and its key scope (practice). A ciphertext copied
into another column, row or practice therefore fails authentication, as does any change to the
header. The column stores the envelope base64-encoded (ASCII), so it is portable across backends.

Invariant: `open_sealed` either returns the exact plaintext that was sealed with that context or
raises `InvalidEnvelope`; it never returns partial or garbage output.
"""

import base64
import binascii
import enum
import os
import uuid
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
_V1_BYTE = bytes([EnvelopeVersion.V1])


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


def encode_text(envelope: bytes) -> str:
    """The envelope as stored in a text column."""
    return base64.b64encode(envelope).decode("ascii")


def decode_text(stored: str) -> bytes:
    """The raw envelope from a text column; malformed base64 is an invalid envelope."""
    try:
        return base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidEnvelope("not base64") from None


def key_id_bytes(key_id: uuid.UUID) -> bytes:
    """A data key's id as it appears in the envelope header."""
    return key_id.bytes
