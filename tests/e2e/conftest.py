"""Browser tests: Playwright driving Debian's Chromium (never a downloaded browser).

Skipped when no Chromium is installed; CI installs it (.ci/run). Pages are served by
pytest-django's live server on loopback.
"""

import os
import shutil

import pytest

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium tries to reach Google's hosts, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """Debian's Chromium, or CHROMIUM_PATH when set."""
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per module.

    Module scope on purpose: Playwright's sync API keeps an asyncio loop running in this
    thread while it is open, which would break every async test collected after it.
    """
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium: `apt-get install chromium` (CI installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between page actions are ordinary synchronous calls, so Django's guard is relaxed here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test (no shared cookies)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture(autouse=True)
def role_groups(transactional_db):
    """The staff-role groups, as the data migration makes them.

    Browser tests run against a live server, so they use transactional databases, which Django
    flushes after each test, role groups from the data migration included.
    """
    import importlib

    from django.apps import apps

    roles_migration = importlib.import_module("clinic.migrations.0002_roles")
    roles_migration.create_role_groups(apps, None)
