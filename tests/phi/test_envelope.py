"""The envelope wire format, against committed vectors: one valid, one invalid per byte region."""

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from phi.crypto import envelope

VECTORS = json.loads((Path(__file__).parent / "vectors" / "envelope_v1.json").read_text())
AEAD = AESGCM(bytes.fromhex(VECTORS["key"]))
CONTEXT = VECTORS["context"].encode()


def test_seal_reproduces_the_published_vector():
    sealed = envelope._seal_with_nonce(
        aead=AEAD,
        key_id=bytes.fromhex(VECTORS["key_id"]),
        plaintext=bytes.fromhex(VECTORS["plaintext"]),
        context=CONTEXT,
        nonce=bytes.fromhex(VECTORS["nonce"]),
    )
    assert sealed.hex() == VECTORS["envelope"]


def test_open_recovers_the_vector_plaintext():
    parsed = envelope.parse(bytes.fromhex(VECTORS["envelope"]))
    assert parsed.version is envelope.EnvelopeVersion.V1
    assert parsed.key_id.hex() == VECTORS["key_id"]
    plaintext = envelope.open_sealed(aead=AEAD, parsed=parsed, context=CONTEXT)
    assert plaintext.hex() == VECTORS["plaintext"]


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["region"])
def test_every_altered_region_is_rejected(vector):
    context = vector.get("context", VECTORS["context"]).encode()
    with pytest.raises(envelope.InvalidEnvelope):
        _parse_and_open(bytes.fromhex(vector["envelope"]), context)


def _parse_and_open(blob: bytes, context: bytes) -> bytes:
    # Both readers must refuse: the explicit parser and the field's one-pass hot path.
    with pytest.raises(envelope.InvalidEnvelope):
        envelope.open_stored(blob, context, lambda _key_id: AEAD)
    return envelope.open_sealed(aead=AEAD, parsed=envelope.parse(blob), context=context)


def test_each_seal_uses_a_fresh_nonce():
    first = envelope.seal(aead=AEAD, key_id=bytes(16), plaintext=b"same", context=CONTEXT)
    second = envelope.seal(aead=AEAD, key_id=bytes(16), plaintext=b"same", context=CONTEXT)
    assert first != second
    assert envelope.parse(first).nonce != envelope.parse(second).nonce


@given(st.binary(max_size=200))
def test_parse_never_accepts_garbage_silently(blob):
    try:
        parsed = envelope.parse(blob)
    except envelope.InvalidEnvelope:
        return
    with pytest.raises(envelope.InvalidEnvelope):
        envelope.open_sealed(aead=AEAD, parsed=parsed, context=CONTEXT)


@given(st.binary(max_size=500), st.text(max_size=50))
def test_round_trip_any_plaintext_and_context(plaintext, label):
    context = envelope.value_context(label=label, row_id="r", scope_id="s")
    sealed = envelope.seal(aead=AEAD, key_id=bytes(16), plaintext=plaintext, context=context)
    parsed = envelope.parse(sealed)
    assert envelope.open_sealed(aead=AEAD, parsed=parsed, context=context) == plaintext
    assert envelope.open_stored(sealed, context, lambda _key_id: AEAD) == plaintext
