"""Encrypted model fields: PHI columns hold AES-256-GCM envelopes, never plaintext.

Each value is sealed with its key scope's current data key and a fresh nonce; the associated
data binds it to `app_label.model.field`, the row's primary key and its key scope (practice), so
a ciphertext copied to another row, column or practice does not decrypt. Values are decrypted
lazily, on first attribute access, so loading a row costs nothing until a field is read.

Rules that follow from the design:
- The model's primary key must exist before the insert (a UUID pk with a default).
- The key scope is the attribute named by `scope_field` (default "practice_id").
- Encrypted columns cannot be filtered, ordered or bulk-updated with plaintext in SQL; use blind
  indexes (phi.crypto.blind_index) for exact-match lookup. Such queries raise TypeError.
- `QuerySet.values()` returns the sealed form: the envelope bytes. On an instance, a `bytes`
  value of an encrypted field *is* ciphertext (no PHI field holds plaintext bytes), which keeps
  loading a row free of wrapper objects.
"""

import datetime
import json
from functools import cached_property
from typing import Any

from django.db import models
from django.db.models.query_utils import DeferredAttribute

from phi.crypto import envelope
from phi.crypto.keys import decryption_key, encryption_key
from phi.errors import DataKeyNotFoundError, DecryptionError, KeyProviderError


class EncryptedAttribute(DeferredAttribute):
    """Decrypts a field's value on first access and keeps the plaintext on the instance."""

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        value = super().__get__(instance, cls)
        if type(value) is bytes:
            value = self.field.unseal(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedFieldMixin:
    """Stores the field's value as a sealed envelope in a binary column."""

    descriptor_class = EncryptedAttribute

    def __init__(self, *args: Any, scope_field: str = "practice_id", **kwargs: Any) -> None:
        self.scope_field = scope_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        """Keep scope_field in migrations when it is not the default."""
        name, path, args, kwargs = super().deconstruct()
        if self.scope_field != "practice_id":
            kwargs["scope_field"] = self.scope_field
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "BinaryField"

    def db_type(self, connection):
        return models.BinaryField().db_type(connection)

    def label(self) -> str:
        """`app_label.model.field`, the column's identity in the associated data."""
        return f"{self.model._meta.label_lower}.{self.name}"

    # -- plaintext <-> bytes, per field type ----------------------------------------------
    def serialize_plaintext(self, value: Any) -> bytes:
        """Bytes to encrypt for a Python value."""
        return str(value).encode()

    def deserialize_plaintext(self, data: bytes) -> Any:
        """The Python value for decrypted bytes."""
        return data.decode()

    # -- sealing ---------------------------------------------------------------------------
    def _context(self, instance: models.Model) -> tuple[bytes, str]:
        """(associated-data context, key scope id as text) for this field of this row."""
        row_id = instance.pk
        scope_id = getattr(instance, self.scope_field, None)
        # The row's part of the context is cached on the instance: formatting UUIDs costs
        # more than the AES-GCM call itself. Keyed by identity, so a changed pk or scope misses.
        cached = instance.__dict__.get("_phi_row_context")
        if cached is not None and cached[0] is row_id and cached[1] is scope_id:
            return self._label_bytes + cached[2], cached[3]
        if row_id is None:
            raise ValueError(
                f"{self.label()} is encrypted and bound to its row: give "
                f"{instance._meta.label} a primary key before saving (a UUIDField with a default)."
            )
        if scope_id is None:
            raise ValueError(
                f"{self.label()} is encrypted under its key scope: set "
                f"{instance._meta.label}.{self.scope_field} before saving."
            )
        row_part = envelope.value_context(label="", row_id=row_id, scope_id=scope_id)
        scope_text = str(scope_id)
        instance.__dict__["_phi_row_context"] = (row_id, scope_id, row_part, scope_text)
        return self._label_bytes + row_part, scope_text

    @cached_property
    def _label_bytes(self) -> bytes:
        return self.label().encode()

    def seal(self, instance: models.Model, value: Any) -> bytes:
        """Encrypt a plaintext value for this instance's row and scope: the envelope bytes."""
        context, scope_text = self._context(instance)
        key_id, aead = encryption_key(scope_text)
        return envelope.seal(
            aead=aead, key_id=key_id, plaintext=self.serialize_plaintext(value), context=context
        )

    def unseal(self, instance: models.Model, stored: bytes) -> Any:
        """Decrypt a stored envelope, or raise DecryptionError naming model, field and row."""
        try:
            context, _ = self._context(instance)
            plaintext = envelope.open_stored(stored, context, decryption_key)
        except (envelope.InvalidEnvelope, DataKeyNotFoundError, KeyProviderError, ValueError):
            raise DecryptionError(
                model=instance._meta.label, field=self.name, row=instance.pk
            ) from None
        return self.deserialize_plaintext(plaintext)

    # -- Django hooks ----------------------------------------------------------------------
    def from_db_value(self, value, expression, connection):
        """Rows load sealed; decryption waits for attribute access."""
        # psycopg 3 and sqlite3 return bytes; some drivers return memoryview.
        return value if value is None or type(value) is bytes else bytes(value)

    def pre_save(self, model_instance: models.Model, add: bool):
        """Seal the current value (re-sealing also moves it to the scope's current key)."""
        value = getattr(model_instance, self.attname)
        if value is None or (value == "" and self.empty_strings_allowed and self.null):
            return None
        return self.seal(model_instance, self.to_python(value))

    def get_prep_value(self, value):
        if value is None or type(value) is bytes:
            return value
        raise TypeError(
            f"{self.label()} is encrypted: it cannot be compared or written in SQL with a "
            "plaintext value. Save the model instance, or look it up through a blind index."
        )

    def get_db_prep_value(self, value, connection, prepared=False):
        return self.get_prep_value(value)

    def to_python(self, value):
        if type(value) is bytes:
            raise TypeError(f"{self.label()}: decrypt through the model instance, not to_python.")
        return super().to_python(value)


class EncryptedCharField(EncryptedFieldMixin, models.CharField):
    """A CharField stored encrypted; max_length applies to the plaintext."""

    def db_parameters(self, connection):
        return {"type": self.db_type(connection), "check": None}


class EncryptedTextField(EncryptedFieldMixin, models.TextField):
    """A TextField stored encrypted."""


class EncryptedEmailField(EncryptedFieldMixin, models.EmailField):
    """An EmailField stored encrypted."""

    def db_parameters(self, connection):
        return {"type": self.db_type(connection), "check": None}


class EncryptedDateField(EncryptedFieldMixin, models.DateField):
    """A DateField stored encrypted (ISO 8601 plaintext)."""

    def serialize_plaintext(self, value: datetime.date) -> bytes:
        return value.isoformat().encode()

    def deserialize_plaintext(self, data: bytes) -> datetime.date:
        return datetime.date.fromisoformat(data.decode())

    def pre_save(self, model_instance, add):
        # DateField.pre_save handles auto_now; encrypted dates never auto-fill.
        return EncryptedFieldMixin.pre_save(self, model_instance, add)


class EncryptedJSONField(EncryptedFieldMixin, models.JSONField):
    """A JSONField stored encrypted (compact JSON plaintext)."""

    def serialize_plaintext(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()

    def deserialize_plaintext(self, data: bytes) -> Any:
        return json.loads(data)

    def to_python(self, value):
        return value

    def from_db_value(self, value, expression, connection):
        return EncryptedFieldMixin.from_db_value(self, value, expression, connection)

    def get_db_prep_save(self, value, connection):
        return self.get_prep_value(value)

    def validate(self, value, model_instance):
        models.Field.validate(self, value, model_instance)
