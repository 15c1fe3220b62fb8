"""Data keys: creation, lookup through a bounded in-process cache, rotation and re-wrapping.

Invariants:
- The hot path (encrypt or decrypt with a key seen before) makes no query and no KMS call.
- A key created inside a transaction is cached as "current" only once that transaction commits,
  so a rolled-back key can never be used for a value that outlives it.
- Every key event (create, rotate, re-wrap, policy change) is written to the audit trail in the
  same transaction, with ids and versions, never key material.
"""

import os
import time
import uuid
from collections import OrderedDict
from datetime import timedelta
from threading import Lock

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.actions import AuditAction
from audit.services import audit_record
from phi.crypto.providers import get_provider
from phi.errors import DataKeyNotFoundError
from phi.models import DataKey, DataKeyPurpose, KeyScopePolicy

DATA_KEY_LENGTH = 32
# Another process may rotate a scope's key; this one picks up the new version within this time.
CURRENT_KEY_TTL_SECONDS = 300.0

_lock = Lock()
_current: dict[tuple[str, str], tuple[float, DataKey, bytes]] = {}
_unwrapped: OrderedDict[bytes, bytes] = OrderedDict()
_aeads: dict[bytes, AESGCM] = {}
_uncommitted: set[uuid.UUID] = set()
# scope -> (expiry, key id bytes, AEAD): the encrypt hot path in one dict lookup.
_current_encrypt: dict[str, tuple[float, bytes, AESGCM]] = {}


def clear_key_caches() -> None:
    """Forget every unwrapped key (tests, and after a KEK change in this process)."""
    with _lock:
        _current.clear()
        _current_encrypt.clear()
        _unwrapped.clear()
        _aeads.clear()


def _remember_unwrapped(key_id: bytes, material: bytes) -> None:
    with _lock:
        _unwrapped[key_id] = material
        _aeads[key_id] = AESGCM(material)
        while len(_unwrapped) > settings.PHI_DATA_KEY_CACHE_SIZE:
            evicted, _ = _unwrapped.popitem(last=False)
            _aeads.pop(evicted, None)


def _kek_for_scope(scope_id: str) -> tuple[str, str]:
    policy = KeyScopePolicy.objects.filter(scope_id=scope_id).first()
    if policy is not None:
        return policy.provider, policy.kek_id
    return settings.PHI_KEY_PROVIDER, settings.PHI_KEK_ID


def _unwrap(data_key: DataKey) -> bytes:
    material = get_provider(data_key.provider).unwrap(
        kek_id=data_key.kek_id,
        wrapped_key=bytes(data_key.wrapped_key),
        context=data_key.encryption_context(),
    )
    _remember_unwrapped(data_key.id.bytes, material)
    return material


@transaction.atomic
def data_key_create(*, scope_id: str, purpose: str, actor: object) -> DataKey:
    """Generate a new data key version for a scope and purpose, wrapped under its KEK."""
    scope_id = str(scope_id)
    latest = DataKey.objects.filter(scope_id=scope_id, purpose=purpose).order_by("-version").first()
    provider_name, kek_id = _kek_for_scope(scope_id)
    data_key = DataKey(
        scope_id=scope_id,
        purpose=purpose,
        version=(latest.version + 1) if latest else 1,
        provider=provider_name,
        kek_id=kek_id,
    )
    material = os.urandom(DATA_KEY_LENGTH)
    data_key.wrapped_key = get_provider(provider_name).wrap(
        kek_id=kek_id, plaintext_key=material, context=data_key.encryption_context()
    )
    data_key.full_clean()
    data_key.save(force_insert=True)
    if latest is not None and latest.retired_at is None:
        DataKey.objects.filter(pk=latest.pk).update(retired_at=timezone.now())
    audit_record(
        action=AuditAction.INDEX_KEY_CREATE
        if purpose == DataKeyPurpose.BLIND_INDEX
        else AuditAction.DATA_KEY_CREATE,
        actor=actor,
        resource_type="phi.datakey",
        resource_id=str(data_key.id),
        practice_id=scope_id,
        detail={
            "purpose": purpose,
            "version": data_key.version,
            "provider": provider_name,
            "kek_id": kek_id,
            "replaces_version": latest.version if latest else None,
        },
    )
    _remember_unwrapped(data_key.id.bytes, material)
    _uncommitted.add(data_key.id)
    transaction.on_commit(lambda: _uncommitted.discard(data_key.id))
    return data_key


def _current_key(scope_id: str, purpose: str) -> tuple[DataKey, bytes]:
    cached = _current.get((scope_id, purpose))
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    return _current_key_slow(str(scope_id), purpose)


def _current_key_slow(scope_id: str, purpose: str) -> tuple[DataKey, bytes]:
    cache_key = (scope_id, purpose)
    data_key = (
        DataKey.objects.filter(scope_id=scope_id, purpose=purpose, retired_at__isnull=True)
        .order_by("-version")
        .first()
    )
    if data_key is None:
        try:
            with transaction.atomic():
                data_key = data_key_create(scope_id=scope_id, purpose=purpose, actor=None)
        except IntegrityError:
            # Another writer created version 1 first: use theirs.
            data_key = DataKey.objects.get(scope_id=scope_id, purpose=purpose, version=1)
    material = _unwrapped.get(data_key.id.bytes) or _unwrap(data_key)
    if data_key.id not in _uncommitted:
        with _lock:
            _current[cache_key] = (
                time.monotonic() + CURRENT_KEY_TTL_SECONDS,
                data_key,
                material,
            )
    return data_key, material


def encryption_key(scope_id: str) -> tuple[bytes, AESGCM]:
    """(key id bytes, AEAD) of the scope's current field-encryption key; created on first use."""
    cached = _current_encrypt.get(scope_id)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1], cached[2]
    data_key, material = _current_key(scope_id, DataKeyPurpose.ENCRYPTION)
    key_id = data_key.id.bytes
    aead = _aeads.get(key_id) or AESGCM(material)
    if (scope_id, DataKeyPurpose.ENCRYPTION) in _current:
        _current_encrypt[scope_id] = (
            _current[(scope_id, DataKeyPurpose.ENCRYPTION)][0],
            key_id,
            aead,
        )
    return key_id, aead


def decryption_key(key_id: bytes) -> AESGCM:
    """The AEAD for a data key id from an envelope; unwrapped once, then served from cache."""
    aead = _aeads.get(key_id)
    if aead is not None:
        return aead
    return _decryption_key_slow(key_id)


def _decryption_key_slow(key_id: bytes) -> AESGCM:
    try:
        data_key = DataKey.objects.get(id=uuid.UUID(bytes=key_id))
    except (DataKey.DoesNotExist, ValueError):
        raise DataKeyNotFoundError(f"no data key with id {key_id.hex()}") from None
    _unwrap(data_key)
    return _aeads[key_id]


def index_key(scope_id: str) -> bytes:
    """The scope's blind-index HMAC key (never rotated: rotating would orphan every index)."""
    _, material = _current_key(scope_id, DataKeyPurpose.BLIND_INDEX)
    return material


@transaction.atomic
def data_key_rotate(*, scope_id: str, actor: object) -> DataKey:
    """Start a new encryption-key version for a scope; older versions keep decrypting."""
    data_key = data_key_create(scope_id=scope_id, purpose=DataKeyPurpose.ENCRYPTION, actor=actor)
    audit_record(
        action=AuditAction.DATA_KEY_ROTATE,
        actor=actor,
        resource_type="phi.datakey",
        resource_id=str(data_key.id),
        practice_id=str(scope_id),
        detail={"version": data_key.version},
    )
    transaction.on_commit(lambda: _forget_current(str(scope_id)))
    return data_key


def _forget_current(scope_id: str) -> None:
    with _lock:
        _current.pop((scope_id, DataKeyPurpose.ENCRYPTION), None)
        _current_encrypt.pop(scope_id, None)


def data_keys_due_for_rotation(*, max_age_days: int | None = None) -> QuerySet[DataKey]:
    """Current encryption keys older than the rotation period (90 days by default)."""
    days = max_age_days if max_age_days is not None else settings.PHI_DATA_KEY_ROTATION_DAYS
    return DataKey.objects.filter(
        purpose=DataKeyPurpose.ENCRYPTION,
        retired_at__isnull=True,
        created_at__lt=timezone.now() - timedelta(days=days),
    )


@transaction.atomic
def data_keys_rewrap(*, scope_id: str, provider: str, kek_id: str, actor: object) -> int:
    """Re-wrap every data key of a scope under another KEK (KEK rotation, bring your own key).

    Data stays as it is: only the wrapped copies of the data keys change.
    """
    scope_id = str(scope_id)
    target = get_provider(provider)
    target.check()
    count = 0
    for data_key in DataKey.objects.select_for_update().filter(scope_id=scope_id):
        material = _unwrap(data_key)
        previous = (data_key.provider, data_key.kek_id)
        data_key.provider, data_key.kek_id = provider, kek_id
        data_key.wrapped_key = target.wrap(
            kek_id=kek_id, plaintext_key=material, context=data_key.encryption_context()
        )
        data_key.save(update_fields=["provider", "kek_id", "wrapped_key"])
        audit_record(
            action=AuditAction.DATA_KEY_REWRAP,
            actor=actor,
            resource_type="phi.datakey",
            resource_id=str(data_key.id),
            practice_id=scope_id,
            detail={
                "purpose": data_key.purpose,
                "version": data_key.version,
                "from_provider": previous[0],
                "from_kek_id": previous[1],
                "to_provider": provider,
                "to_kek_id": kek_id,
            },
        )
        count += 1
    KeyScopePolicy.objects.update_or_create(
        scope_id=scope_id, defaults={"provider": provider, "kek_id": kek_id}
    )
    return count
