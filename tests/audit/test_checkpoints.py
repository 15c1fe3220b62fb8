"""Checkpoints: C2SP signed notes of the head, written once to WORM storage."""

from __future__ import annotations

import base64
import hashlib
import stat

import pytest
from cryptography.hazmat.primitives import serialization

from audit.actions import AuditAction
from audit.chain import chain_head, chain_integrate
from audit.checkpoints import (
    Checkpoint,
    LocalWormStore,
    checkpoint_maybe_write,
    checkpoint_parse,
    checkpoint_sign,
    checkpoint_verifier_key,
    checkpoint_write,
    signing_key,
)
from audit.errors import CheckpointError
from audit.models import AuditEvent
from tests.audit.conftest import record_events

pytestmark = pytest.mark.django_db


def test_signed_note_has_c2sp_layout_and_key_id(worm_dir, settings):
    checkpoint = Checkpoint(
        settings.AUDIT_CHECKPOINT_ORIGIN, 42, "ab" * 32, "2026-11-23T00:00:00.000000Z"
    )
    note = checkpoint_sign(checkpoint)
    text, signature_block = note.split("\n\n")
    assert text.split("\n") == [
        settings.AUDIT_CHECKPOINT_ORIGIN,
        "42",
        base64.b64encode(bytes.fromhex("ab" * 32)).decode(),
        "ts 2026-11-23T00:00:00.000000Z",
    ]
    prefix = f"\u2014 {settings.AUDIT_CHECKPOINT_ORIGIN} "
    assert signature_block.startswith(prefix)
    raw = base64.b64decode(signature_block[len(prefix) :].strip())
    public = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    key_id = hashlib.sha256(
        settings.AUDIT_CHECKPOINT_ORIGIN.encode() + b"\n\x01" + public
    ).digest()[:4]
    assert raw[:4] == key_id
    assert len(raw) == 4 + 64
    assert checkpoint_verifier_key().split("+")[1] == key_id.hex()
    assert checkpoint_parse(note) == checkpoint


def test_parse_rejects_an_altered_checkpoint(worm_dir, settings):
    note = checkpoint_sign(Checkpoint(settings.AUDIT_CHECKPOINT_ORIGIN, 7, "cd" * 32, "x"))
    with pytest.raises(CheckpointError, match="signature"):
        checkpoint_parse(note.replace("\n7\n", "\n8\n"))


def test_key_file_is_created_private(worm_dir, settings):
    signing_key()
    mode = stat.S_IMODE(settings.AUDIT_CHECKPOINT_KEY_FILE.stat().st_mode)
    assert mode == 0o600


def test_checkpoint_write_stores_a_read_only_file_and_records_it(worm_dir):
    record_events(3)
    chain_integrate()
    checkpoint = checkpoint_write()
    assert checkpoint.seq == 3
    assert checkpoint.hash == chain_head().hash
    [path] = list((worm_dir / "audit-checkpoints").iterdir())
    assert path.name == "00000000000000000003.checkpoint"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    written = AuditEvent.objects.get(action=AuditAction.CHECKPOINT_WRITTEN)
    assert written.detail["seq"] == 3


def test_local_worm_store_never_replaces_an_object(worm_dir):
    store = LocalWormStore(worm_dir)
    store.write("00000000000000000001.checkpoint", b"a")
    with pytest.raises(CheckpointError, match="never replaced"):
        store.write("00000000000000000001.checkpoint", b"b")


def test_checkpoint_is_written_automatically_every_n_events(worm_dir, settings):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    record_events(4)
    chain_integrate()
    assert checkpoint_maybe_write() is None
    record_events(2)
    chain_integrate()
    assert checkpoint_maybe_write().seq == 6
    chain_integrate()
    assert checkpoint_maybe_write() is None  # 7 events: next one is due at 10
