"""Database-level immutability of the audit tables: triggers and their per-connection switch.

Invariant: on Postgres and SQLite the database itself refuses UPDATE, DELETE and TRUNCATE of
audit events and of chain links; both are written once and never changed (sealing inserts a
link, it does not touch the event). The pending queue (audit_pendingevent) is not evidence
and stays writable: the integrator deletes from it. The only relaxation is for test
databases: Django's TransactionTestCase empties every table after each test, so with
AUDIT_ALLOW_TEST_FLUSH = True (config/settings/test.py only; never in production) each
connection sets a switch that lets DELETE/TRUNCATE through. UPDATE stays refused even then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections

TEST_FLUSH_GUC = "clarion.audit_test_flush"
SQLITE_FLUSH_FUNCTION = "clarion_audit_test_flush"
# The append-only tables, with the short name each trigger carries.
GUARDED_TABLES = {"audit_auditevent": "audit_event", "audit_chainlink": "audit_link"}

PG_INSTALL = f"""
CREATE OR REPLACE FUNCTION audit_append_only_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE'
       AND coalesce(current_setting('{TEST_FLUSH_GUC}', true), '') = 'on' THEN
        RETURN NULL;  -- statement-level trigger: the value is ignored, the statement proceeds
    END IF;
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END
$$;
""" + "".join(
    f"""
CREATE TRIGGER {short}_no_update BEFORE UPDATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only_guard();
CREATE TRIGGER {short}_no_delete BEFORE DELETE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only_guard();
CREATE TRIGGER {short}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only_guard();
"""
    for table, short in GUARDED_TABLES.items()
)

PG_UNINSTALL = (
    "".join(
        f"""
DROP TRIGGER IF EXISTS {short}_no_update ON {table};
DROP TRIGGER IF EXISTS {short}_no_delete ON {table};
DROP TRIGGER IF EXISTS {short}_no_truncate ON {table};
"""
        for table, short in GUARDED_TABLES.items()
    )
    + "DROP FUNCTION IF EXISTS audit_append_only_guard();\n"
)

SQLITE_INSTALL = [
    statement
    for table, short in GUARDED_TABLES.items()
    for statement in (
        f"""
CREATE TRIGGER {short}_no_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused');
END
""",
        # Without the per-connection function (e.g. the sqlite3 shell) this errors, i.e.
        # refuses too.
        f"""
CREATE TRIGGER {short}_no_delete BEFORE DELETE ON {table}
WHEN {SQLITE_FLUSH_FUNCTION}() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: DELETE refused');
END
""",
    )
]

SQLITE_UNINSTALL = [
    f"DROP TRIGGER IF EXISTS {short}_{op}"
    for short in GUARDED_TABLES.values()
    for op in ("no_update", "no_delete")
]

# What migrations 0002 and 0003 installed before events and links were split (0004 drops it).
LEGACY_PG_UNINSTALL = """
DROP TRIGGER IF EXISTS audit_event_no_update ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_guard();
DROP PROCEDURE IF EXISTS audit_chain_integrate_all(integer, boolean, bigint, bigint, bigint[]);
DROP FUNCTION IF EXISTS audit_chain_integrate(integer, boolean);
"""
LEGACY_SQLITE_UNINSTALL = [
    "DROP TRIGGER IF EXISTS audit_event_no_update",
    "DROP TRIGGER IF EXISTS audit_event_no_delete",
]

_enforced_override = False


def _execute_for_vendor(schema_editor: Any, *, postgres: str, sqlite: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgres, params=None)  # None: the '%' are plpgsql's, not ours
    elif vendor == "sqlite":
        for statement in sqlite:
            schema_editor.execute(statement)


def triggers_install(schema_editor: Any) -> None:
    """Install the immutability triggers for this database vendor (migration 0004)."""
    _execute_for_vendor(schema_editor, postgres=PG_INSTALL, sqlite=SQLITE_INSTALL)


def triggers_uninstall(schema_editor: Any) -> None:
    """Remove the immutability triggers (reverse of migration 0004)."""
    _execute_for_vendor(schema_editor, postgres=PG_UNINSTALL, sqlite=SQLITE_UNINSTALL)


def integrator_install(schema_editor: Any) -> None:
    """Install the Postgres sealing function and procedure (migration 0004)."""
    from audit.chain import PG_INTEGRATE_FUNCTION, PG_INTEGRATE_PROCEDURE

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INTEGRATE_FUNCTION, params=None)
        schema_editor.execute(PG_INTEGRATE_PROCEDURE, params=None)


def integrator_uninstall(schema_editor: Any) -> None:
    """Remove the Postgres sealing function and procedure (reverse of migration 0004)."""
    from audit.chain import PG_INTEGRATE_DROP

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_INTEGRATE_DROP, params=None)


def legacy_uninstall(schema_editor: Any) -> None:
    """Drop the triggers and sealing routines of migrations 0002/0003, where present."""
    _execute_for_vendor(schema_editor, postgres=LEGACY_PG_UNINSTALL, sqlite=LEGACY_SQLITE_UNINSTALL)


_prepared_cursor_class: type | None = None


def prepared_cursor(connection: Any) -> Any:
    """A Django cursor on `connection` (Postgres) whose statements are server-bound and
    prepared on first use, for the one statement every audited read and write runs (Django's
    regular cursor while it logs queries).

    Django keeps prepared statements off by default so that transaction-mode poolers work;
    this prepares only the audit insert (AUDIT_PREPARED_INSERT, on by default), which halves
    its client CPU and spares the server a parse and plan per event (audit/__init__.py). It
    still goes through Django's wrapper: error translation, execute wrappers, query logging.
    """
    global _prepared_cursor_class  # built once, on first use, so SQLite-only runs never need it
    if _prepared_cursor_class is None:
        import psycopg

        class PreparedCursor(psycopg.Cursor):
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                kwargs["prepare"] = True
                return super().execute(query, params, **kwargs)

        _prepared_cursor_class = PreparedCursor
    if connection.queries_logged:
        # DEBUG or a test capturing queries: Django's own cursor, whose log shows the SQL
        # (for a prepared statement Django's last_executed_query has none to show).
        return connection.cursor()
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw = connection.connection
    if raw.prepare_threshold is None:
        # Django sets None, under which psycopg ignores prepare=True. A threshold no query
        # reaches keeps automatic preparation off for everything else (Django's own cursors
        # bind client-side and never prepare anyway) while ours is prepared when it asks.
        raw.prepare_threshold = 2**31 - 1
    with connection.wrap_database_errors:
        cursor = _prepared_cursor_class(raw)
    return connection.make_cursor(cursor)


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
