"""Settings for the tiktok project, read from the environment with django-environ.

Every value has a local default that works with ``bin/stack up``. With
``DJANGO_ENV=production`` the defaults that are unsafe in production are refused: the
process will not start without ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``,
``DATABASE_URL``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

ENVIRONMENT = env.str("DJANGO_ENV", default="local")
PRODUCTION = ENVIRONMENT == "production"


def required_in_production(name: str, local_default: str) -> str:
    """Environment variable ``name``, which production must set (not empty).

    Read verbatim: django-environ takes a value that starts with ``$`` for the name of
    another variable, and a random secret may start with one.
    """
    value = os.environ.get(name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"The environment variable {name} is required when DJANGO_ENV=production.")
    return local_default


def database_from_url(url: str, *, connect_timeout: int) -> dict:
    """Turn ``postgres://user:password@host:port/name`` into a Django DATABASES entry."""
    config = environ.Env.db_url_config(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"Only PostgreSQL URLs are supported, got {url.partition(':')[0]!r}.")
    return config | {
        "HOST": config["HOST"] or "127.0.0.1",
        "PORT": str(config["PORT"] or 5432),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**config.get("OPTIONS", {}), "connect_timeout": connect_timeout},
    }


# --- Core -----------------------------------------------------------------------------

SECRET_KEY = required_in_production(
    "DJANGO_SECRET_KEY", "local-only-insecure-key-0123456789-abcdefghijklmnopqrstuvwxyz"
)
DEBUG = env.bool("DJANGO_DEBUG", default=not PRODUCTION)
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    cast=str.strip,
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable DJANGO_ALLOWED_HOSTS is required when DJANGO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", cast=str.strip, default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "tiktok",
    "accounts",
    "videos",
    "activity",
    "feed",
    "moderation",
]
if not PRODUCTION:
    # Development tooling (`manage.py seed_demo`, run by `make run` and `make demo`): its
    # users share a published password, so production never installs it.
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "tiktok.middleware.RequestContextMiddleware",
    "tiktok.metrics.PrometheusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "tiktok.urls"
WSGI_APPLICATION = "tiktok.wsgi.application"
APPEND_SLASH = False

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

AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Databases: one primary, any number of streaming replicas --------------------------

DATABASE_URL = required_in_production("DATABASE_URL", "postgres://tiktok:tiktok@127.0.0.1:55432/tiktok")
DATABASE_REPLICA_URLS = env.list(
    "DATABASE_REPLICA_URLS", cast=str.strip, default=["postgres://tiktok:tiktok@127.0.0.1:55433/tiktok"]
)

DATABASES = {"default": database_from_url(DATABASE_URL, connect_timeout=env.int("DATABASE_CONNECT_TIMEOUT", default=5))}
for _index, _url in enumerate(DATABASE_REPLICA_URLS, start=1):
    _replica = database_from_url(_url, connect_timeout=env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=1))
    # Tests create their database on the primary only; streaming replication copies
    # it to the replica. conftest.py points the replica alias back at its own server.
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica" if _index == 1 else f"replica_{_index}"] = _replica
DATABASE_ROUTERS = ["tiktok.db_router.PrimaryReplicaRouter"]

# A replica further behind than this (seconds of replay lag) is skipped.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=5.0)
# A replica that failed a check is not tried again for this long.
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=5.0)
# Outside a request or task, a replica's state is re-checked at most this often.
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)
# How long the primary's WAL position after a user's write is remembered.
DATABASE_WRITE_POSITION_TTL_SECONDS = env.int("DATABASE_WRITE_POSITION_TTL_SECONDS", default=60)
# Fallback when the WAL position cannot be read: pin the user to the primary this long.
DATABASE_PRIMARY_PIN_SECONDS = env.int("DATABASE_PRIMARY_PIN_SECONDS", default=5)

# --- Redis: a durable instance (broker, counter deltas) and an LRU cache ---------------

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:56380/0")
REDIS_DURABLE_URL = env.str("REDIS_DURABLE_URL", default="redis://127.0.0.1:56379/1")
REDIS_SOCKET_TIMEOUT_SECONDS = env.float("REDIS_SOCKET_TIMEOUT_SECONDS", default=1.0)

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
        },
        "KEY_PREFIX": "c",
    },
    "durable": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_DURABLE_URL,
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
            "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT_SECONDS,
        },
        "KEY_PREFIX": "d",
    },
}

# --- Celery ---------------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:56379/0")
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# Acknowledge after the task ran, so a worker killed mid-task leaves it to be redelivered
# once the visibility timeout passes. The longest task (processing a 60 s clip) must
# finish well inside it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_VISIBILITY_TIMEOUT_SECONDS = env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT_SECONDS,
    # Sweep for messages of dead workers every N seconds (kombu's default is ~100 s).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
# A task must end well inside the visibility timeout, or it would be delivered again
# while still running.
CELERY_TASK_TIME_LIMIT = int(CELERY_VISIBILITY_TIMEOUT_SECONDS * 0.9)
CELERY_TASK_SOFT_TIME_LIMIT = int(CELERY_VISIBILITY_TIMEOUT_SECONDS * 0.8)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    # A takedown must not wait behind transcodes (exact names win over patterns).
    "videos.tasks.video_quarantine_sync": {"queue": "default"},
    "videos.tasks.*": {"queue": "media"},
    "feed.tasks.fanout_*": {"queue": "fanout"},
}
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=30)
# Tests run tasks inline unless a test starts a real worker; see tests/conftest.py.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True

# --- Object storage (S3-compatible) ---------------------------------------------------

AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="http://127.0.0.1:59000")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="tiktok-media")
AWS_ACCESS_KEY_ID = required_in_production("AWS_ACCESS_KEY_ID", "testing")
AWS_SECRET_ACCESS_KEY = required_in_production("AWS_SECRET_ACCESS_KEY", "testing")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_ADDRESSING_STYLE = "path"
# Public base URL of the CDN in front of the bucket; empty means presigned GET URLs.
CDN_BASE_URL = env.str("CDN_BASE_URL", default="")

# --- API ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tiktok.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("THROTTLE_AUTH", default="20/min"),
        "writes": env.str("THROTTLE_WRITES", default="120/min"),
        "uploads": env.str("THROTTLE_UPLOADS", default="30/hour"),
    },
}
API_PAGE_SIZE_DEFAULT = 10
API_PAGE_SIZE_MAX = 50

SPECTACULAR_SETTINGS = {
    "TITLE": "Short-video API",
    "DESCRIPTION": "Upload short clips, follow creators, scroll a personalised feed.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "APPEND_COMPONENTS": {
        "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer"}},
    },
    "SECURITY": [{"BearerAuth": []}],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "ENUM_NAME_OVERRIDES": {},
}

# Failed logins: after this many for one username or address, refuse for a while.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)

# --- Security (production) ------------------------------------------------------------

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
# /healthz, /readyz and /metrics answer plain HTTP probes and scrapes from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Metrics --------------------------------------------------------------------------

# Addresses (TCP peer, CIDR allowed) that may read /metrics: loopback and private ranges.
# The public proxy must not forward /metrics (docker/nginx/nginx.conf denies it).
METRICS_ALLOWED_IPS = env.list(
    "METRICS_ALLOWED_IPS",
    cast=str.strip,
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)

# --- Logging --------------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tiktok.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "tiktok.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if env.bool("LOG_JSON", default=PRODUCTION) else "plain",
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Product settings -----------------------------------------------------------------

VIDEO_MAX_UPLOAD_BYTES = env.int("VIDEO_MAX_UPLOAD_BYTES", default=100 * 1024 * 1024)
VIDEO_ALLOWED_CONTENT_TYPES = env.list(
    "VIDEO_ALLOWED_CONTENT_TYPES", cast=str.strip, default=["video/mp4", "video/quicktime", "video/webm"]
)
VIDEO_MAX_DURATION_SECONDS = env.float("VIDEO_MAX_DURATION_SECONDS", default=60.0)
VIDEO_CAPTION_MAX_LENGTH = 2200
VIDEO_UPLOAD_URL_EXPIRY_SECONDS = env.int("VIDEO_UPLOAD_URL_EXPIRY_SECONDS", default=600)
# An upload never completed is deleted this long after its URL expired.
VIDEO_ABANDONED_UPLOAD_GRACE = timedelta(seconds=env.int("VIDEO_ABANDONED_UPLOAD_GRACE_SECONDS", default=3600))
VIDEO_PLAYBACK_URL_EXPIRY_SECONDS = env.int("VIDEO_PLAYBACK_URL_EXPIRY_SECONDS", default=3600)
VIDEO_CARD_CACHE_SECONDS = env.int("VIDEO_CARD_CACHE_SECONDS", default=300)
VIDEO_PROCESSING_MAX_ATTEMPTS = env.int("VIDEO_PROCESSING_MAX_ATTEMPTS", default=5)
VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS = env.int("VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS", default=300)
# HLS players resolve variant and segment URIs relative to the master playlist and drop
# its query string, so a presigned master alone cannot play from a private bucket:
# processed objects are public-read locally. In production set "" (private) and serve
# through the CDN with origin access control, or on buckets whose ACLs are disabled.
# Originals always stay private.
VIDEO_PROCESSED_OBJECT_ACL = env.str("VIDEO_PROCESSED_OBJECT_ACL", default="public-read")
# (rendition short side in pixels, peak video bits/s): never upscaled.
VIDEO_RENDITION_LADDER = ((360, 900_000), (720, 2_800_000))

COMMENT_MAX_LENGTH = 500

FEED_MAX_ITEMS = env.int("FEED_MAX_ITEMS", default=500)
FANOUT_BATCH_SIZE = env.int("FANOUT_BATCH_SIZE", default=1000)
BIG_CREATOR_FOLLOWERS = env.int("BIG_CREATOR_FOLLOWERS", default=10000)
FEED_FOLLOW_BACKFILL = env.int("FEED_FOLLOW_BACKFILL", default=50)
FEED_INACTIVE_DAYS = env.int("FEED_INACTIVE_DAYS", default=30)
FEED_SEEN_MAX = env.int("FEED_SEEN_MAX", default=1000)
FEED_BIG_CREATOR_KEEP = env.int("FEED_BIG_CREATOR_KEEP", default=200)
FEED_MAX_READ_ROUNDS = 4
FEED_REBUILD_LOCK_SECONDS = env.float("FEED_REBUILD_LOCK_SECONDS", default=10.0)
FEED_REBUILD_WAIT_SECONDS = env.float("FEED_REBUILD_WAIT_SECONDS", default=3.0)
FEED_ACTIVE_REFRESH_HOURS = env.int("FEED_ACTIVE_REFRESH_HOURS", default=24)
TRENDING_WINDOW_HOURS = env.int("TRENDING_WINDOW_HOURS", default=72)
TRENDING_MAX_ITEMS = env.int("TRENDING_MAX_ITEMS", default=1000)
TRENDING_GRAVITY = env.float("TRENDING_GRAVITY", default=1.5)
TRENDING_INTERVAL_SECONDS = env.float("TRENDING_INTERVAL_SECONDS", default=60.0)
FEED_REFRESH_INTERVAL_SECONDS = env.float("FEED_REFRESH_INTERVAL_SECONDS", default=3600.0)
COUNTER_FLUSH_SECONDS = env.float("COUNTER_FLUSH_SECONDS", default=5.0)
REPORT_AUTO_HIDE_THRESHOLD = env.int("REPORT_AUTO_HIDE_THRESHOLD", default=5)

# --- Periodic tasks (Celery beat; RedBeat holds a lock so a second beat stays idle) ----


def _every(seconds: float, *, expires: float | None = None) -> dict:
    """A schedule entry option set: a tick that is not run before the next one is dropped."""
    return {"schedule": seconds, "options": {"expires": expires if expires is not None else seconds}}


WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=30.0)

CELERY_BEAT_SCHEDULE = {
    "activity-flush-counters": {"task": "activity.tasks.flush_counters", **_every(COUNTER_FLUSH_SECONDS)},
    "activity-recount-counters": {"task": "activity.tasks.recount_counters", **_every(3600.0, expires=1800.0)},
    "feed-refresh-active": {"task": "feed.tasks.refresh_active_feeds", **_every(FEED_REFRESH_INTERVAL_SECONDS)},
    "feed-recompute-trending": {"task": "feed.tasks.recompute_trending", **_every(TRENDING_INTERVAL_SECONDS)},
    "videos-delete-abandoned-uploads": {"task": "videos.tasks.delete_abandoned_uploads", **_every(900.0)},
    "videos-requeue-stuck-processing": {"task": "videos.tasks.requeue_stuck_processing", **_every(300.0)},
    "worker-heartbeat": {"task": "tiktok.tasks.worker_heartbeat", **_every(WORKER_HEARTBEAT_SECONDS)},
    "outbox-drain": {"task": "tiktok.tasks.drain_outbox", **_every(10.0)},
}
