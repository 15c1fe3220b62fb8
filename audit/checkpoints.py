"""Signed checkpoints of the chain head in WORM storage (C2SP tlog-checkpoint + signed-note).

A checkpoint is a C2SP signed note whose text is::

    <origin>\\n
    <tree size: head seq, decimal>\\n
    <base64 of the 32-byte head hash>\\n
    ts <head event's canonical ts>\\n          (an extension line)

followed by a blank line and one signature line
``— <key name> <base64(4-byte key id || 64-byte Ed25519 signature of the text)>``, where
key id = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]. The verifier key is
published as ``<name>+<hex key id>+<base64(0x01 || public key)>`` (`checkpoint_verifier_key`).

Invariant: a checkpoint object is written once and never overwritten: locally as a read-only
file created exclusively under AUDIT_WORM_DIR, on S3 with Object Lock in COMPLIANCE mode and a
retain-until date AUDIT_WORM_RETENTION_DAYS ahead (six years by default, 45 CFR 164.316), so
not even the bucket owner can delete or replace it before then. Each write is itself recorded
in the chain (CHECKPOINT_WRITTEN), so a checkpoint that later goes missing is noticed.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from audit.errors import CheckpointError

logger = logging.getLogger(__name__)

SIGNATURE_PREFIX = "\u2014 "  # em dash and a space, as signed-note requires
ED25519_ALG = b"\x01"
NAME_WIDTH = 20  # zero-padded seq in object names, so names sort by seq


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A parsed checkpoint: origin, head seq, head hash (hex) and head ts text."""

    origin: str
    seq: int
    hash: str
    ts: str

    def text(self) -> str:
        """The signed-note text (what is signed)."""
        root = base64.b64encode(bytes.fromhex(self.hash)).decode()
        return f"{self.origin}\n{self.seq}\n{root}\nts {self.ts}\n"


# --- keys ---------------------------------------------------------------------------------


def _key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519_ALG + public_key).digest()[:4]


def _raw_public(key: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def signing_key() -> Ed25519PrivateKey:
    """The checkpoint signing key from AUDIT_CHECKPOINT_KEY_FILE (created locally if allowed)."""
    path = Path(settings.AUDIT_CHECKPOINT_KEY_FILE)
    if not path.exists():
        if not settings.AUDIT_CHECKPOINT_KEY_AUTOCREATE:
            raise ImproperlyConfigured(
                f"audit checkpoint key {path} is missing; provide the Ed25519 key file "
                "(AUDIT_CHECKPOINT_KEY_FILE) or allow AUDIT_CHECKPOINT_KEY_AUTOCREATE locally"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        seed = os.urandom(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(seed)
    seed = path.read_bytes()
    if len(seed) != 32:
        raise ImproperlyConfigured(f"audit checkpoint key {path} must hold a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def checkpoint_verifier_key() -> str:
    """The public verifier key in signed-note form: name+keyid+base64(0x01||pubkey)."""
    name = settings.AUDIT_CHECKPOINT_ORIGIN
    public = _raw_public(signing_key().public_key())
    return f"{name}+{_key_id(name, public).hex()}+{base64.b64encode(ED25519_ALG + public).decode()}"


def checkpoint_sign(checkpoint: Checkpoint, key: Ed25519PrivateKey | None = None) -> str:
    """The full signed note for a checkpoint."""
    key = key or signing_key()
    name = settings.AUDIT_CHECKPOINT_ORIGIN
    text = checkpoint.text()
    signature = key.sign(text.encode())
    blob = base64.b64encode(_key_id(name, _raw_public(key.public_key())) + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {blob}\n"


def checkpoint_parse(note: str, public_key: Ed25519PublicKey | None = None) -> Checkpoint:
    """Parse a signed checkpoint and check its signature; raises CheckpointError if bad."""
    public_key = public_key or signing_key().public_key()
    name = settings.AUDIT_CHECKPOINT_ORIGIN
    text, sep, signatures = note.partition("\n\n")
    if not sep:
        raise CheckpointError("checkpoint has no signature block")
    text += "\n"
    lines = text.splitlines()
    if len(lines) < 3:
        raise CheckpointError("checkpoint text needs origin, size and root hash lines")
    origin, size, root = lines[0], lines[1], lines[2]
    ts = next((line[3:] for line in lines[3:] if line.startswith("ts ")), "")
    if origin != name:
        raise CheckpointError(f"checkpoint origin {origin!r} is not this log's {name!r}")
    want_id = _key_id(name, _raw_public(public_key))
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            continue
        sig_name, _, blob = line[len(SIGNATURE_PREFIX) :].rpartition(" ")
        raw = base64.b64decode(blob, validate=True)
        if sig_name != name or raw[:4] != want_id:
            continue
        try:
            public_key.verify(raw[4:], text.encode())
        except InvalidSignature:
            raise CheckpointError("checkpoint signature does not verify") from None
        try:
            return Checkpoint(origin, int(size), base64.b64decode(root, validate=True).hex(), ts)
        except ValueError as exc:
            raise CheckpointError(f"checkpoint size or root hash is malformed: {exc}") from None
    raise CheckpointError("checkpoint carries no signature by this log's key")


# --- WORM storage -------------------------------------------------------------------------


class WormStore(Protocol):
    """Write-once storage of checkpoint notes, listed by name."""

    def write(self, name: str, data: bytes) -> str: ...
    def read(self, name: str) -> bytes: ...
    def names(self) -> list[str]: ...


class LocalWormStore:
    """Read-only files under AUDIT_WORM_DIR: created exclusively, then chmod 0444."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / settings.AUDIT_WORM_PREFIX.strip("/")

    def write(self, name: str, data: bytes) -> str:
        """Create the file (never overwrite) and make it read-only."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        except FileExistsError:
            raise CheckpointError(
                f"checkpoint {path} already exists; WORM objects are never replaced"
            ) from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return str(path)

    def read(self, name: str) -> bytes:
        """The stored bytes."""
        return (self.root / name).read_bytes()

    def names(self) -> list[str]:
        """Checkpoint object names, sorted (= by seq)."""
        if not self.root.exists():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.name.endswith(".checkpoint"))


class S3WormStore:
    """S3 through django-storages, each object under Object Lock COMPLIANCE retention."""

    def __init__(self) -> None:
        from storages.backends.s3 import S3Storage

        retention_days = settings.AUDIT_WORM_RETENTION_DAYS

        class ObjectLockS3Storage(S3Storage):
            def get_object_parameters(self, name: str) -> dict[str, Any]:
                params = super().get_object_parameters(name)
                params["ObjectLockMode"] = "COMPLIANCE"
                params["ObjectLockRetainUntilDate"] = datetime.now(tz=UTC) + timedelta(
                    days=retention_days
                )
                # Object Lock uploads must carry a checksum.
                params.setdefault("ChecksumAlgorithm", "SHA256")
                return params

        self.storage = ObjectLockS3Storage(
            bucket_name=settings.AUDIT_WORM_BUCKET,
            location=settings.AUDIT_WORM_PREFIX.strip("/"),
            endpoint_url=settings.AWS_ENDPOINT_URL or None,
            region_name=settings.AWS_REGION,
            file_overwrite=False,
            default_acl=None,
        )

    def write(self, name: str, data: bytes) -> str:
        """Upload once; an existing name is refused."""
        from django.core.files.base import ContentFile

        if self.storage.exists(name):
            raise CheckpointError(f"checkpoint {name} already exists in the WORM bucket")
        return self.storage.save(name, ContentFile(data))

    def read(self, name: str) -> bytes:
        """The stored bytes."""
        with self.storage.open(name, "rb") as f:
            return f.read()

    def names(self) -> list[str]:
        """Checkpoint object names, sorted (= by seq)."""
        _, files = self.storage.listdir("")
        return sorted(f for f in files if f.endswith(".checkpoint"))


def worm_store() -> WormStore:
    """The configured WORM store (AUDIT_WORM_BACKEND: local or s3)."""
    backend = settings.AUDIT_WORM_BACKEND
    if backend == "local":
        return LocalWormStore(Path(settings.AUDIT_WORM_DIR))
    if backend == "s3":
        if not settings.AUDIT_WORM_BUCKET:
            raise ImproperlyConfigured("AUDIT_WORM_BACKEND=s3 needs AUDIT_WORM_BUCKET")
        return S3WormStore()
    raise ImproperlyConfigured(f"AUDIT_WORM_BACKEND must be 'local' or 's3', not {backend!r}")


def checkpoint_name(seq: int) -> str:
    """The object name for a checkpoint at head seq."""
    return f"{seq:0{NAME_WIDTH}d}.checkpoint"


# --- writing ------------------------------------------------------------------------------


def checkpoint_write(*, store: WormStore | None = None) -> Checkpoint | None:
    """Sign the current head and write it to WORM storage; None when the chain is empty."""
    from audit.actions import AuditAction
    from audit.chain import chain_head, format_ts
    from audit.models import AuditEvent
    from audit.services import audit_record

    head = chain_head()
    if head.seq == 0:
        return None
    store = store or worm_store()
    name = checkpoint_name(head.seq)
    if name in set(store.names()):
        return None  # this head is already checkpointed
    ts = AuditEvent.objects.values_list("ts", flat=True).get(link__seq=head.seq)
    checkpoint = Checkpoint(settings.AUDIT_CHECKPOINT_ORIGIN, head.seq, head.hash, format_ts(ts))
    store.write(name, checkpoint_sign(checkpoint).encode())
    audit_record(
        action=AuditAction.CHECKPOINT_WRITTEN,
        actor=None,
        resource_type="audit.checkpoint",
        resource_id=name,
        practice_id=None,
        detail={"seq": head.seq, "hash": head.hash, "backend": settings.AUDIT_WORM_BACKEND},
    )
    # The object name is a zero-padded seq, which log redaction would mask as an id: log the
    # seq and where it went instead (the CHECKPOINT_WRITTEN event names the object).
    logger.info(
        "audit checkpoint written: seq %s to %s storage",
        head.seq,
        settings.AUDIT_WORM_BACKEND,
    )
    return checkpoint


def checkpoint_maybe_write() -> Checkpoint | None:
    """Write a checkpoint when the head has passed the next multiple of AUDIT_CHECKPOINT_EVERY."""
    every = settings.AUDIT_CHECKPOINT_EVERY
    if every <= 0:
        return None
    from audit.actions import AuditAction
    from audit.chain import chain_head
    from audit.models import AuditEvent

    head = chain_head()
    last = (
        AuditEvent.objects.filter(action=AuditAction.CHECKPOINT_WRITTEN, link__isnull=False)
        .order_by("-link__seq")
        .values_list("detail", flat=True)
        .first()
    )
    last_seq = int(last["seq"]) if last else 0
    if head.seq // every <= last_seq // every:
        return None
    try:
        return checkpoint_write()
    except CheckpointError as exc:
        # Usually a concurrent integrator wrote this head first; the next one is due anyway.
        logger.warning("audit checkpoint not written: %s", exc)
        return None


def checkpoints_load(*, store: WormStore | None = None) -> list[tuple[str, str]]:
    """Every stored checkpoint as (object name, note text), by seq."""
    store = store or worm_store()
    return [(name, store.read(name).decode()) for name in store.names()]


__all__ = [
    "Checkpoint",
    "checkpoint_maybe_write",
    "checkpoint_parse",
    "checkpoint_sign",
    "checkpoint_verifier_key",
    "checkpoint_write",
    "checkpoints_load",
    "worm_store",
]
