"""Settings for the clinic benchmark worker: the test settings plus the unencrypted twin app."""

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, INSTALLED_APPS, VAR_DIR

INSTALLED_APPS = [*INSTALLED_APPS, "bench.twin"]
# A file, not SQLite's in-memory test database, so the figure is what a developer's disk gives.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "bench-clinic.sqlite3")}
