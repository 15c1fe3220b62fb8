"""Errors of the phi app: one base class, one subclass per failure a caller can act on."""


class PHIError(Exception):
    """Base class for every error raised by the phi app."""


class DecryptionError(PHIError):
    """A stored value could not be decrypted (wrong key, tampered, moved or unknown key id)."""

    def __init__(self, *, model: str, field: str, row: object) -> None:
        # Deliberately one message for every cause (pyca's InvalidToken): an attacker learns
        # nothing about which check failed. The operator learns where to look.
        super().__init__(
            f"Cannot decrypt {model}.{field} of row {row}: the value is corrupt, was moved "
            "from another row, column or practice, or its data key is unavailable."
        )
        self.model = model
        self.field = field
        self.row = row


class KeyConfigurationError(PHIError):
    """The key provider is not configured; the message names the setting to fix."""


class KeyProviderError(PHIError):
    """The key provider (local file or KMS) refused or failed to wrap or unwrap a key."""


class DataKeyNotFoundError(PHIError):
    """An envelope names a data key id that does not exist."""
