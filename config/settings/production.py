"""Production: Postgres, Redis channel layer, AWS KMS, S3 with Object Lock.

Secrets have no default, so a missing one fails at boot naming the variable.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)

REDIS_URL = env("REDIS_URL")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [REDIS_URL],
            # Frames crossing Redis carry PHI: encrypt them with a symmetric key.
            "symmetric_encryption_keys": [env("CHANNELS_ENCRYPTION_KEY")],
        },
    }
}

PHI_KEY_PROVIDER = env("PHI_KEY_PROVIDER", default="aws-kms")
PHI_KEK_ID = env("PHI_KEK_ID")
# The local provider never invents a master key in production: it must be provided.
PHI_MASTER_KEY_AUTOCREATE = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Audit checkpoints: a provided signing key and S3 Object Lock storage, never local defaults.
AUDIT_CHECKPOINT_KEY_FILE = env.path("AUDIT_CHECKPOINT_KEY_FILE")
AUDIT_CHECKPOINT_KEY_AUTOCREATE = False
AUDIT_CHECKPOINT_ORIGIN = env("AUDIT_CHECKPOINT_ORIGIN")
AUDIT_WORM_BACKEND = env("AUDIT_WORM_BACKEND", default="s3")
AUDIT_WORM_BUCKET = env("AUDIT_WORM_BUCKET")
AUDIT_ALLOW_TEST_FLUSH = False
# Many concurrent writers: a dedicated `manage.py audit_integrate --follow` process seals the
# chain (0.82x an unchained insert with 8 writers, against 0.46x sealing after each commit);
# docker-compose.yml runs it as the audit-integrator service.
AUDIT_INTEGRATE_ON_COMMIT = env.bool("AUDIT_INTEGRATE_ON_COMMIT", default=False)

# Call recordings (kept only for practices that switch them on) go to S3 under Object Lock,
# never to local disk; VOICE_RECORDING_BUCKET must be a bucket created with Object Lock.
VOICE_RECORDING_STORAGE = env("VOICE_RECORDING_STORAGE", default="s3")
