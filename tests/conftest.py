"""Suite-wide fixtures and markers: Postgres-only tests skip on SQLite, Redis tests without Redis."""

import os

import pytest
from django.db import connection


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip tests whose backing service this run does not have."""
    on_postgres = connection.vendor == "postgresql"
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis (set REDIS_URL)"))


@pytest.fixture(autouse=True)
def _fresh_key_caches():
    """Each test starts with no unwrapped keys: test transactions roll back their key rows."""
    from phi.crypto.keys import clear_key_caches

    clear_key_caches()
    yield
    clear_key_caches()
