"""Database-level immutability of the audit table: triggers and their per-connection switch.

Invariant: on Postgres and SQLite the database itself refuses UPDATE (except the single
sealing update that fills seq/prev_hash/hash of a pending row and changes nothing else),
DELETE and TRUNCATE of audit events. The only relaxation is for test databases: Django's
TransactionTestCase empties every table after each test, so with AUDIT_ALLOW_TEST_FLUSH = True
(config/settings/test.py only; never in production) each connection sets a switch that lets
DELETE/TRUNCATE through. UPDATE stays refused even then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections

TEST_FLUSH_GUC = "clarion.audit_test_flush"
SQLITE_FLUSH_FUNCTION = "clarion_audit_test_flush"

_IMMUTABLE_COLUMNS = (
    "id",
    "ts",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "resource_type",
    "resource_id",
    "practice_id",
    "detail",
    "request_id",
    "ip",
)

PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- The one allowed update: the integrator seals a pending row, changing nothing else.
        IF OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
           AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
           AND ({", ".join("NEW." + c for c in _IMMUTABLE_COLUMNS)})
               IS NOT DISTINCT FROM ({", ".join("OLD." + c for c in _IMMUTABLE_COLUMNS)})
        THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'audit_auditevent is append-only: UPDATE of audit event id % refused', OLD.id
            USING ERRCODE = '42501';
    END IF;
    IF coalesce(current_setting('{TEST_FLUSH_GUC}', true), '') = 'on' THEN
        RETURN NULL;  -- statement-level trigger: the value is ignored, the statement proceeds
    END IF;
    RAISE EXCEPTION 'audit_auditevent is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_guard();
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_guard();
"""

PG_UNINSTALL = """
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_guard();
"""

SQLITE_INSTALL = [
    f"""
CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_auditevent
WHEN NOT (OLD.seq IS NULL AND OLD.prev_hash IS NULL AND OLD.hash IS NULL
          AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
          AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in _IMMUTABLE_COLUMNS)})
BEGIN
    SELECT RAISE(ABORT, 'audit_auditevent is append-only: UPDATE refused');
END
""",
    # Without the per-connection function (e.g. the sqlite3 shell) this errors, i.e. refuses too.
    f"""
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
WHEN {SQLITE_FLUSH_FUNCTION}() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'audit_auditevent is append-only: DELETE refused');
END
""",
]

SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

_enforced_override = False


def triggers_install(schema_editor: Any) -> None:
    """Install the immutability triggers for this database vendor (migration 0002)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_INSTALL, params=None)  # None: the '%' are plpgsql's, not ours
    elif vendor == "sqlite":
        for statement in SQLITE_INSTALL:
            schema_editor.execute(statement)


def triggers_uninstall(schema_editor: Any) -> None:
    """Remove the immutability triggers (reverse of migration 0002)."""
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UNINSTALL, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UNINSTALL:
            schema_editor.execute(statement)


def integrator_install(schema_editor: Any) -> None:
    """Install the Postgres sealing function and procedure (migration 0003)."""
    from audit.chain import PG_INTEGRATE_FUNCTION, PG_INTEGRATE_PROCEDURE

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INTEGRATE_FUNCTION, params=None)
        schema_editor.execute(PG_INTEGRATE_PROCEDURE, params=None)


def integrator_uninstall(schema_editor: Any) -> None:
    """Remove the Postgres sealing function and procedure (reverse of migration 0003)."""
    from audit.chain import PG_INTEGRATE_DROP

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INTEGRATE_DROP, params=None)


def _test_flush_allowed() -> bool:
    return bool(getattr(settings, "AUDIT_ALLOW_TEST_FLUSH", False)) and not _enforced_override


def on_connection_created(sender: Any, connection: Any, **_: Any) -> None:
    """Per connection: register the SQLite switch function / set the Postgres test switch."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_FLUSH_FUNCTION, 0, lambda: 1 if _test_flush_allowed() else 0
        )
    elif connection.vendor == "postgresql" and _test_flush_allowed():
        with connection.cursor() as cursor:
            cursor.execute(f"SET {TEST_FLUSH_GUC} = 'on'")


@contextmanager
def immutability_enforced(using: str = "default") -> Iterator[None]:
    """Within the block, refuse DELETE/TRUNCATE even on a test database (for tests of it)."""
    global _enforced_override  # a process-wide test switch, restored below
    connection = connections[using]
    previous = _enforced_override
    _enforced_override = True
    try:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET {TEST_FLUSH_GUC} = 'off'")
        yield
    finally:
        _enforced_override = previous
        if connection.vendor == "postgresql" and _test_flush_allowed():
            with connection.cursor() as cursor:
                cursor.execute(f"SET {TEST_FLUSH_GUC} = 'on'")
