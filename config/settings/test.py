"""Tests: only what makes them fast and hermetic (cookiecutter-django's test.py)."""

from .base import *  # noqa: F403
from .base import VAR_DIR, env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# A throwaway master key for the test run; never the developer's own.
PHI_MASTER_KEY_FILE = env.path("PHI_MASTER_KEY_FILE", default=VAR_DIR / "test-keys" / "master.key")

# Test-only apps (tables made without migrations): one model per encrypted field type, and an
# audited stand-in for a PHI model.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.phi.fieldapp", "tests.audit.auditapp"]  # noqa: F405

# Django's TransactionTestCase empties every table after each test; let it empty the
# append-only audit table too (audit/db.py). Never set anywhere else.
AUDIT_ALLOW_TEST_FLUSH = True
AUDIT_WORM_DIR = VAR_DIR / "test-worm"
AUDIT_CHECKPOINT_KEY_FILE = VAR_DIR / "test-keys" / "audit-checkpoint.key"
