"""Key providers: where key-encryption keys (KEKs) live and how data keys are wrapped.

Every provider has the same interface (`KeyProvider`): wrap and unwrap a data key under a named
KEK, with an encryption context (key scope, purpose, version) that must match on unwrap. The
local provider derives KEKs from a master-key file, for development; AWS KMS keeps the KEK in
the HSM and never lets it out. Both run the same contract tests.
"""

import json
import os
import stat
from functools import cache
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from phi.errors import KeyConfigurationError, KeyProviderError

MASTER_KEY_LENGTH = 32
_NONCE_LENGTH = 12


class KeyProvider(Protocol):
    """Wraps and unwraps data keys under a key-encryption key it holds."""

    name: str

    def wrap(self, *, kek_id: str, plaintext_key: bytes, context: dict[str, str]) -> bytes:
        """Encrypt a data key under the KEK, bound to the context."""
        ...

    def unwrap(self, *, kek_id: str, wrapped_key: bytes, context: dict[str, str]) -> bytes:
        """Decrypt a wrapped data key; the context must be the one it was wrapped with."""
        ...

    def check(self) -> None:
        """Raise KeyConfigurationError, naming the setting, if the provider cannot work."""
        ...


def _canonical_context(context: dict[str, str]) -> bytes:
    return json.dumps(context, sort_keys=True, separators=(",", ":")).encode()


class LocalFileKeyProvider:
    """KEKs derived (HKDF-SHA256) from a 32-byte master key in a local file (mode 0600)."""

    name = "local"

    def __init__(self, *, master_key_file: Path, autocreate: bool) -> None:
        self.master_key_file = Path(master_key_file)
        self.autocreate = autocreate
        self._master_key: bytes | None = None
        self._keks: dict[str, AESGCM] = {}

    def check(self) -> None:
        """The master key file exists and is readable, or may be created (not in production)."""
        if self.master_key_file.exists() or self.autocreate:
            return
        raise KeyConfigurationError(
            f"PHI master key file {self.master_key_file} does not exist. Set PHI_MASTER_KEY_FILE "
            "to the path of the 32-byte master key, or use PHI_KEY_PROVIDER=aws-kms with PHI_KEK_ID."
        )

    def _load_master_key(self) -> bytes:
        if self._master_key is None:
            self.check()
            if not self.master_key_file.exists():
                self._create_master_key()
            material = self.master_key_file.read_bytes()
            if len(material) != MASTER_KEY_LENGTH:
                raise KeyConfigurationError(
                    f"PHI master key file {self.master_key_file} must hold exactly "
                    f"{MASTER_KEY_LENGTH} bytes; it holds {len(material)}."
                )
            self._master_key = material
        return self._master_key

    def _create_master_key(self) -> None:
        self.master_key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # O_EXCL: two processes starting at once must not both write (and one lose) a key.
        try:
            fd = os.open(self.master_key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return
        with os.fdopen(fd, "wb") as handle:
            handle.write(os.urandom(MASTER_KEY_LENGTH))
        os.chmod(self.master_key_file, stat.S_IRUSR | stat.S_IWUSR)

    def _kek(self, kek_id: str) -> AESGCM:
        if kek_id not in self._keks:
            derived = HKDF(
                algorithm=hashes.SHA256(),
                length=32,
                salt=b"clarion-local-kek",
                info=kek_id.encode(),
            ).derive(self._load_master_key())
            self._keks[kek_id] = AESGCM(derived)
        return self._keks[kek_id]

    def wrap(self, *, kek_id: str, plaintext_key: bytes, context: dict[str, str]) -> bytes:
        """nonce | AES-256-GCM(KEK, data key, aad=context)."""
        nonce = os.urandom(_NONCE_LENGTH)
        return nonce + self._kek(kek_id).encrypt(nonce, plaintext_key, _canonical_context(context))

    def unwrap(self, *, kek_id: str, wrapped_key: bytes, context: dict[str, str]) -> bytes:
        """Reverse of wrap; a wrong master key, KEK id or context raises KeyProviderError."""
        try:
            return self._kek(kek_id).decrypt(
                wrapped_key[:_NONCE_LENGTH],
                wrapped_key[_NONCE_LENGTH:],
                _canonical_context(context),
            )
        except InvalidTag:
            raise KeyProviderError(
                f"The local master key cannot unwrap a data key under KEK {kek_id!r}: "
                "wrong master key file or tampered key record."
            ) from None


class AwsKmsKeyProvider:
    """KEKs are AWS KMS keys; wrapping is kms:Encrypt with an encryption context."""

    name = "aws-kms"

    def __init__(self, *, region: str, endpoint_url: str | None = None) -> None:
        self.region = region
        self.endpoint_url = endpoint_url or None
        self._client = None

    @property
    def client(self):
        """A boto3 KMS client, made on first use."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "kms", region_name=self.region, endpoint_url=self.endpoint_url
            )
        return self._client

    def check(self) -> None:
        """A KEK id must be configured."""
        if not getattr(settings, "PHI_KEK_ID", ""):
            raise KeyConfigurationError(
                "PHI_KEY_PROVIDER=aws-kms needs PHI_KEK_ID (a KMS key id or ARN)."
            )

    def wrap(self, *, kek_id: str, plaintext_key: bytes, context: dict[str, str]) -> bytes:
        """kms:Encrypt of the data key under the KMS key."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.encrypt(
                KeyId=kek_id, Plaintext=plaintext_key, EncryptionContext=context
            )
        except (BotoCoreError, ClientError) as exc:
            raise KeyProviderError(
                f"AWS KMS could not wrap a data key under {kek_id!r}: {exc}"
            ) from exc
        return response["CiphertextBlob"]

    def unwrap(self, *, kek_id: str, wrapped_key: bytes, context: dict[str, str]) -> bytes:
        """kms:Decrypt, pinned to the expected KMS key and context."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.decrypt(
                KeyId=kek_id, CiphertextBlob=wrapped_key, EncryptionContext=context
            )
        except (BotoCoreError, ClientError) as exc:
            raise KeyProviderError(
                f"AWS KMS could not unwrap a data key under {kek_id!r}: {exc}"
            ) from exc
        return response["Plaintext"]


@cache
def get_provider(name: str) -> KeyProvider:
    """The configured provider instance for a provider name (one per process)."""
    if name == LocalFileKeyProvider.name:
        return LocalFileKeyProvider(
            master_key_file=settings.PHI_MASTER_KEY_FILE,
            autocreate=settings.PHI_MASTER_KEY_AUTOCREATE,
        )
    if name == AwsKmsKeyProvider.name:
        return AwsKmsKeyProvider(region=settings.AWS_REGION, endpoint_url=settings.AWS_ENDPOINT_URL)
    raise KeyConfigurationError(
        f"Unknown PHI key provider {name!r}: set PHI_KEY_PROVIDER to 'local' or 'aws-kms'."
    )
