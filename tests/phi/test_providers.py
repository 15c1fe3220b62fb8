"""Key providers share one contract: the local file provider and AWS KMS (moto, server mode)."""

import os
import subprocess
import sys

import pytest

from phi.crypto.providers import AwsKmsKeyProvider, LocalFileKeyProvider
from phi.errors import KeyProviderError
from tests.fakes.moto_server import moto_server  # noqa: F401 - fixture

CONTEXT = {"clarion:scope": "scope-1", "clarion:purpose": "enc", "clarion:version": "1"}
DATA_KEY = bytes(range(32))


class KeyProviderContract:
    """Every provider wraps, unwraps, and refuses a wrong context or a tampered key.

    Subclasses supply the `provider_and_kek` fixture: (provider, KEK id).
    """

    def test_wrap_then_unwrap_returns_the_key(self, provider_and_kek):
        provider, kek_id = provider_and_kek
        wrapped = provider.wrap(kek_id=kek_id, plaintext_key=DATA_KEY, context=CONTEXT)
        assert DATA_KEY not in wrapped
        assert provider.unwrap(kek_id=kek_id, wrapped_key=wrapped, context=CONTEXT) == DATA_KEY

    def test_unwrap_with_another_context_is_refused(self, provider_and_kek):
        provider, kek_id = provider_and_kek
        wrapped = provider.wrap(kek_id=kek_id, plaintext_key=DATA_KEY, context=CONTEXT)
        with pytest.raises(KeyProviderError):
            provider.unwrap(
                kek_id=kek_id, wrapped_key=wrapped, context={**CONTEXT, "clarion:scope": "other"}
            )

    def test_tampered_wrapped_key_is_refused(self, provider_and_kek):
        provider, kek_id = provider_and_kek
        wrapped = bytearray(provider.wrap(kek_id=kek_id, plaintext_key=DATA_KEY, context=CONTEXT))
        wrapped[-1] ^= 0x01
        with pytest.raises(KeyProviderError):
            provider.unwrap(kek_id=kek_id, wrapped_key=bytes(wrapped), context=CONTEXT)


class TestLocalFileKeyProvider(KeyProviderContract):
    @pytest.fixture
    def provider_and_kek(self, tmp_path):
        return LocalFileKeyProvider(master_key_file=tmp_path / "m.key", autocreate=True), "kek-1"

    def test_missing_master_key_without_autocreate_names_the_setting(self, tmp_path):
        provider = LocalFileKeyProvider(master_key_file=tmp_path / "absent.key", autocreate=False)
        with pytest.raises(Exception, match="PHI_MASTER_KEY_FILE"):
            provider.wrap(kek_id="k", plaintext_key=DATA_KEY, context=CONTEXT)

    def test_a_short_master_key_file_is_refused(self, tmp_path):
        path = tmp_path / "short.key"
        path.write_bytes(b"too short")
        provider = LocalFileKeyProvider(master_key_file=path, autocreate=False)
        with pytest.raises(Exception, match="exactly 32 bytes"):
            provider.wrap(kek_id="k", plaintext_key=DATA_KEY, context=CONTEXT)


class TestAwsKmsKeyProvider(KeyProviderContract):
    @pytest.fixture
    def provider_and_kek(self, moto_server):  # noqa: F811
        import boto3

        kms = boto3.client("kms", region_name="us-east-1", endpoint_url=moto_server)
        kek_id = kms.create_key(Description="clarion test KEK")["KeyMetadata"]["KeyId"]
        return AwsKmsKeyProvider(region="us-east-1", endpoint_url=moto_server), kek_id

    def test_unwrap_with_another_kms_key_is_refused(self, provider_and_kek, moto_server):  # noqa: F811
        import boto3

        provider, kek_id = provider_and_kek
        other = boto3.client("kms", region_name="us-east-1", endpoint_url=moto_server).create_key()
        wrapped = provider.wrap(kek_id=kek_id, plaintext_key=DATA_KEY, context=CONTEXT)
        with pytest.raises(KeyProviderError):
            provider.unwrap(
                kek_id=other["KeyMetadata"]["KeyId"], wrapped_key=wrapped, context=CONTEXT
            )


def test_production_settings_refuse_to_start_without_the_master_key(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "clinic.example",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CHANNELS_ENCRYPTION_KEY": "y" * 32,
        "PHI_KEY_PROVIDER": "local",
        "PHI_KEK_ID": "kek-1",
        "PHI_MASTER_KEY_FILE": str(tmp_path / "missing.key"),
        "AUDIT_CHECKPOINT_KEY_FILE": str(tmp_path / "checkpoint.key"),
        "AUDIT_CHECKPOINT_ORIGIN": "clinic.example/audit",
        "AUDIT_WORM_BUCKET": "clarion-audit-worm",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "PHI_MASTER_KEY_FILE" in result.stderr
