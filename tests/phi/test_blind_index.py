"""Blind indexes: deterministic per practice, different across practices, keyed, audited."""

import uuid

import pytest

from audit.actions import AuditAction
from audit.models import AuditEvent
from phi.crypto.blind_index import blind_index
from phi.crypto.keys import clear_key_caches

pytestmark = pytest.mark.django_db


def test_same_value_same_practice_gives_the_same_index():
    practice = uuid.uuid4()
    first = blind_index(scope_id=practice, kind="mrn", value="MRN0012")
    clear_key_caches()
    assert blind_index(scope_id=practice, kind="mrn", value="MRN0012") == first
    assert len(first) == 64


def test_other_practice_gives_another_index():
    assert blind_index(scope_id=uuid.uuid4(), kind="mrn", value="MRN0012") != blind_index(
        scope_id=uuid.uuid4(), kind="mrn", value="MRN0012"
    )


def test_kind_separates_equal_values():
    practice = uuid.uuid4()
    assert blind_index(scope_id=practice, kind="mrn", value="5550123") != blind_index(
        scope_id=practice, kind="phone", value="5550123"
    )


def test_index_is_not_a_plain_hash_of_the_value():
    import hashlib

    index = blind_index(scope_id=uuid.uuid4(), kind="mrn", value="MRN0012")
    assert index != hashlib.sha256(b"MRN0012").hexdigest()
    assert index != hashlib.sha256(b"mrn\x00MRN0012").hexdigest()


def test_index_key_creation_is_audited():
    practice = uuid.uuid4()
    blind_index(scope_id=practice, kind="mrn", value="MRN0012")
    assert AuditEvent.objects.filter(
        action=AuditAction.INDEX_KEY_CREATE, practice_id=str(practice)
    ).exists()


def test_kind_with_nul_is_refused():
    with pytest.raises(ValueError, match="kind"):
        blind_index(scope_id=uuid.uuid4(), kind="a\x00b", value="x")
