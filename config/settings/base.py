"""Settings shared by every environment; one `env` reads them all (django-environ).

Embedded default: SQLite, in-memory channel layer, local key file, local storage, so
`make run` needs no other service. Production overrides live in production.py.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"  # git-ignored: SQLite file, local keys, media, WORM folder
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "phi",
    "audit",
    "clinic",
    "voiceagent",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",  # request id, ip, user for audit events
    "phi.middleware.PHIRedactionMiddleware",  # redaction scope, log ids, no-store on PHI pages
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
]

# Brute-force protection (django-axes): the first backend refuses locked-out credentials.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)  # hours
# Lock the username from that address, not the whole address: a clinic shares one NAT.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Content Security Policy (django-csp): only our own scripts, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # The admin sets a few style attributes in its templates; styles cannot run code.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# One DATABASE_URL; the embedded default is a SQLite file under var/.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'clarion.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Daphne runs sync work in threads: IMMEDIATE transactions wait for SQLite's write lock
    # instead of failing with "database is locked" when two of them write at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channels: in-memory by default; Redis when REDIS_URL is set.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = VAR_DIR / "media"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Sessions end with the browser and after 30 minutes idle (HIPAA automatic logoff).
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# --- PHI protection -------------------------------------------------------------------
# Key provider for key-encryption keys: "local" (file master key) or "aws-kms".
PHI_KEY_PROVIDER = env("PHI_KEY_PROVIDER", default="local")
# Local provider: 32-byte master key file, generated on first use (mode 0600).
PHI_MASTER_KEY_FILE = env.path("PHI_MASTER_KEY_FILE", default=VAR_DIR / "keys" / "master.key")
PHI_MASTER_KEY_AUTOCREATE = env.bool("PHI_MASTER_KEY_AUTOCREATE", default=True)
# The key-encryption key new data keys are wrapped under (a KMS key id / ARN for aws-kms).
PHI_KEK_ID = env("PHI_KEK_ID", default="local-kek-1")
# Data keys rotate after this many days (new writes use the new version).
PHI_DATA_KEY_ROTATION_DAYS = env.int("PHI_DATA_KEY_ROTATION_DAYS", default=90)
# Unwrapped data keys kept in process (bounded), so the hot path makes no KMS call.
PHI_DATA_KEY_CACHE_SIZE = env.int("PHI_DATA_KEY_CACHE_SIZE", default=1024)
# Phone numbers without a country code are read as numbers of this region.
PHI_DEFAULT_PHONE_REGION = env("PHI_DEFAULT_PHONE_REGION", default="US")
AWS_REGION = env("AWS_REGION", default="us-east-1")
AWS_ENDPOINT_URL = env("AWS_ENDPOINT_URL", default="")

# --- Voice receptionist (Twilio Media Streams <-> realtime model) ----------------------
# Without Twilio or OpenAI credentials the rest of the platform runs as before; incoming calls
# are then forwarded to the practice's main line.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN", default="")
# Only for tests and local fakes: send Twilio REST calls to this origin instead of api.twilio.com.
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", default="")
# The https origin Twilio sees; webhook signatures are checked against it, never the Host header.
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="")
# OPENAI_API_KEY / OPENAI_BASE_URL are read by the openai SDK itself.
OPENAI_REALTIME_MODEL = env("OPENAI_REALTIME_MODEL", default="gpt-realtime")
AZURE_OPENAI_ENDPOINT = env("AZURE_OPENAI_ENDPOINT", default="")
AZURE_OPENAI_API_KEY = env("AZURE_OPENAI_API_KEY", default="")
AZURE_OPENAI_API_VERSION = env("AZURE_OPENAI_API_VERSION", default="2025-04-01-preview")
AZURE_OPENAI_REALTIME_DEPLOYMENT = env("AZURE_OPENAI_REALTIME_DEPLOYMENT", default="")
VOICE_MAX_CALL_SECONDS = env.int("VOICE_MAX_CALL_SECONDS", default=15 * 60)
VOICE_IDLE_SECONDS = env.int("VOICE_IDLE_SECONDS", default=30)
VOICE_STREAM_TOKEN_TTL_SECONDS = env.int("VOICE_STREAM_TOKEN_TTL_SECONDS", default=60)
# Strict mode (no realtime session to a provider without a BAA; the call is forwarded) is
# phi.egress's PHI_EGRESS_STRICT with the BAA flags in PHI_EGRESS_BAA.
# Recordings (only for practices that switch them on): "" = default storage, else a dotted
# storage class path (production: S3 with Object Lock; retention in days, 6 years by default).
VOICE_RECORDING_STORAGE = env("VOICE_RECORDING_STORAGE", default="")
VOICE_RECORDING_BUCKET = env("VOICE_RECORDING_BUCKET", default="")
VOICE_RECORDING_RETENTION_DAYS = env.int("VOICE_RECORDING_RETENTION_DAYS", default=6 * 365)

# Every handler carries the PHI redaction filter (phi.logging); Django's own loggers are
# redefined here so none of its default handlers (mail_admins, django.server) escapes it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "phi_redact": {"()": "phi.logging.PHIRedactionFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "plain": {
            "format": "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s call=%(call_id)s] %(message)s",
            "defaults": {"request_id": None, "call_id": None},
        },
        "json": {"()": "phi.logging.StructuredFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("LOG_FORMAT", default="plain"),
            "filters": ["phi_redact"],
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "filters": ["require_debug_false", "phi_redact"],
            "reporter_class": "phi.logging.PHISafeExceptionReporter",
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django": {"handlers": ["console", "mail_admins"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
# Error pages and admin e-mails: PHI-named parameters and variables dropped, the rest redacted.
DEFAULT_EXCEPTION_REPORTER_FILTER = "phi.logging.PHISafeExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "phi.logging.PHISafeExceptionReporter"
# Pages under these paths show PHI and are sent with Cache-Control: no-store.
PHI_NO_STORE_PATH_PREFIXES = env.list("PHI_NO_STORE_PATH_PREFIXES", default=["/admin/"])
# Egress (phi.egress): raw PHI only to processors with a BAA. Flip a flag once the BAA is
# signed, e.g. PHI_BAA_OPENAI=true; a processor without one only ever gets redacted text.
PHI_EGRESS_STRICT = env.bool("PHI_EGRESS_STRICT", default=True)
PHI_EGRESS_BAA = {
    "openai": env.bool("PHI_BAA_OPENAI", default=False),
    "azure-openai": env.bool("PHI_BAA_AZURE_OPENAI", default=False),
    "analytics-webhook": env.bool("PHI_BAA_ANALYTICS_WEBHOOK", default=False),
    "summary-webhook": env.bool("PHI_BAA_SUMMARY_WEBHOOK", default=False),
    "alert-email": env.bool("PHI_BAA_ALERT_EMAIL", default=False),
    "alert-chat": env.bool("PHI_BAA_ALERT_CHAT", default=False),
    "siem": env.bool("PHI_BAA_SIEM", default=False),
}

# --- Audit trail ----------------------------------------------------------------------
# Seal pending events into the chain right after each commit (False: run
# `manage.py audit_integrate --follow` as a separate process instead).
AUDIT_INTEGRATE_ON_COMMIT = env.bool("AUDIT_INTEGRATE_ON_COMMIT", default=True)
# With on-commit integration: seal in one background thread per process instead of in the
# committing thread (the writer returns at once; more throughput with many writers).
AUDIT_INTEGRATE_IN_BACKGROUND = env.bool("AUDIT_INTEGRATE_IN_BACKGROUND", default=False)
# Prepare the audit INSERT on each Postgres connection (server-side binding). Turn off behind a
# transaction-mode pooler that cannot keep prepared statements (PgBouncer before 1.21).
AUDIT_PREPARED_INSERT = env.bool("AUDIT_PREPARED_INSERT", default=True)
# Background thread and `audit_integrate --follow`: wait this long for commits to gather before
# sealing them as one batch (integration lag grows by about this much; cost per event falls).
AUDIT_INTEGRATE_BATCH_WAIT = env.float("AUDIT_INTEGRATE_BATCH_WAIT", default=0.05)
# Sign and store a checkpoint of the chain head every N events (0 turns it off).
AUDIT_CHECKPOINT_EVERY = env.int("AUDIT_CHECKPOINT_EVERY", default=1000)
# The checkpoint's origin line (C2SP tlog-checkpoint): a name unique to this log.
AUDIT_CHECKPOINT_ORIGIN = env("AUDIT_CHECKPOINT_ORIGIN", default="clarion.local/audit")
# Ed25519 signing key (raw 32-byte seed file); generated on first use locally (mode 0600).
AUDIT_CHECKPOINT_KEY_FILE = env.path(
    "AUDIT_CHECKPOINT_KEY_FILE", default=VAR_DIR / "keys" / "audit-checkpoint.key"
)
AUDIT_CHECKPOINT_KEY_AUTOCREATE = env.bool("AUDIT_CHECKPOINT_KEY_AUTOCREATE", default=True)
# WORM storage for checkpoints: "local" (read-only files under AUDIT_WORM_DIR) or "s3"
# (django-storages S3 with Object Lock COMPLIANCE and AUDIT_WORM_RETENTION_DAYS retention).
AUDIT_WORM_BACKEND = env("AUDIT_WORM_BACKEND", default="local")
AUDIT_WORM_DIR = env.path("AUDIT_WORM_DIR", default=VAR_DIR / "worm")
AUDIT_WORM_BUCKET = env("AUDIT_WORM_BUCKET", default="")
AUDIT_WORM_PREFIX = env("AUDIT_WORM_PREFIX", default="audit-checkpoints/")
AUDIT_WORM_RETENTION_DAYS = env.int("AUDIT_WORM_RETENTION_DAYS", default=6 * 365 + 2)  # 164.316
# Callable user -> list of practice ids the user may see audit events of, or None for all.
AUDIT_PRACTICE_SCOPE_RESOLVER = env(
    "AUDIT_PRACTICE_SCOPE_RESOLVER", default="clinic.selectors.practice_ids_for_user"
)
# Only config/settings/test.py turns this on: lets Django's test flush empty the audit table.
AUDIT_ALLOW_TEST_FLUSH = False
