"""Online re-encryption: move every sealed value of a scope onto its current data key.

Runs in small batches, each in its own transaction with one DATA_REENCRYPT audit event (row ids
and field names, never values). Rows already on the current key are skipped by reading the
key id from the envelope header, without decrypting, so an interrupted run resumes by running
again. Plaintext never leaves this process and never reaches a log.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from audit.actions import AuditAction
from audit.services import audit_record
from phi.crypto import envelope
from phi.crypto.keys import encryption_key
from phi.fields import EncryptedFieldMixin


@dataclass(frozen=True)
class BatchResult:
    """What one batch did: rows looked at, rows re-sealed, and the last primary key seen."""

    model: str
    examined: int
    resealed: int
    last_pk: object


def encrypted_models() -> list[tuple[type[models.Model], list[EncryptedFieldMixin]]]:
    """Every installed model with encrypted fields, with those fields."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedFieldMixin)]
        if fields:
            found.append((model, fields))
    return found


def _stale_fields(row: models.Model, fields, current_by_scope: dict) -> list[EncryptedFieldMixin]:
    stale = []
    for field in fields:
        stored = row.__dict__.get(field.attname)
        if type(stored) is not bytes or len(stored) < envelope.HEADER_LENGTH:
            continue
        scope = str(getattr(row, field.scope_field))
        if scope not in current_by_scope:
            current_by_scope[scope] = encryption_key(scope)[0]
        if stored[1 : envelope.HEADER_LENGTH] != current_by_scope[scope]:
            stale.append(field)
    return stale


def reencrypt_batches(
    *, model: type[models.Model], fields, batch_size: int = 500, after_pk: object = None
) -> Iterator[BatchResult]:
    """Re-seal a model's stale values batch by batch, yielding after each committed batch."""
    queryset = model._base_manager.order_by("pk")
    while True:
        page = queryset.filter(pk__gt=after_pk) if after_pk is not None else queryset
        rows = list(page[:batch_size])
        if not rows:
            return
        resealed = _reseal_batch(model=model, fields=fields, rows=rows)
        after_pk = rows[-1].pk
        yield BatchResult(model._meta.label, len(rows), resealed, after_pk)


@transaction.atomic
def _reseal_batch(*, model, fields, rows) -> int:
    current_by_scope: dict[str, bytes] = {}
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    changed_ids, changed_fields = [], set()
    for row in rows:
        stale = _stale_fields(row, fields, current_by_scope)
        if not stale:
            continue
        assignments, params = [], []
        for field in stale:
            plaintext = getattr(row, field.attname)  # DecryptionError stops the run, loudly
            assignments.append(f"{connection.ops.quote_name(field.column)} = %s")
            params.append(field.seal(row, plaintext))
            changed_fields.add(field.name)
        params.append(model._meta.pk.get_db_prep_value(row.pk, connection))
        # Raw UPDATE on purpose: this is a key operation, recorded below as one
        # DATA_REENCRYPT event per batch rather than as an edit of each patient.
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {', '.join(assignments)} WHERE {pk_column} = %s",  # noqa: S608 - identifiers quoted, values bound
                params,
            )
        changed_ids.append(str(row.pk))
    if changed_ids:
        scopes = sorted({str(getattr(r, fields[0].scope_field)) for r in rows})
        audit_record(
            action=AuditAction.DATA_REENCRYPT,
            actor=None,
            resource_type=model._meta.label_lower,
            resource_id=None,
            practice_id=scopes[0] if len(scopes) == 1 else None,
            detail={"row_ids": changed_ids, "fields": sorted(changed_fields), "scopes": scopes},
        )
    return len(changed_ids)
