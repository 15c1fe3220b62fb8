"""Settings for the Daphne subprocess of end-to-end tests, simulate_call and the bench.

The test settings, plus a BAA on file for the realtime processors, as a deployment that has
signed one sets it (phi.egress reads PHI_EGRESS_BAA). Strict mode stays on, so a provider
without a BAA is refused exactly as in production.
"""

from config.settings.test import *  # noqa: F403

PHI_EGRESS_BAA = {"openai": True, "azure-openai": True}
# Read by voiceagent.selectors only while phi.egress is absent.
VOICE_PROVIDERS_WITH_BAA = ("openai", "azure-openai")

# The Daphne process and the test share a SQLite file; IMMEDIATE transactions wait for the
# write lock instead of failing with "database is locked" when two threads write at once.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {}).update(  # noqa: F405
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
