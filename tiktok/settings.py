"""Settings for the tiktok project, read from the environment with django-environ.

Every value has a local default that works with ``bin/stack up``. With
``DJANGO_ENV=production`` the defaults that are unsafe in production are refused: the
process will not start without ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS``,
``DATABASE_URL``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY``.
"""

import os
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

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
        # PostgreSQL with a schema editor that never holds a lock a hot table waits on for
        # long (see "Migrations" in docs/operations.md); queries are unchanged.
        "ENGINE": "django_zero_downtime_migrations.backends.postgres",
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
    # The admin site refuses suspended accounts and guards its login (accounts.admin_site).
    "accounts.apps.AccountsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "tiktok",
    "accounts",
    "videos",
    "activity",
    "feed",
    "discovery",
    "moderation",
    "web",  # the reference web client at /
    "corsheaders",
]
if not PRODUCTION:
    INSTALLED_APPS.append("django_migration_linter")  # `make lint` (manage.py lintmigrations)
if not PRODUCTION:
    # Development tooling (`manage.py seed_demo`, run by `make run` and `make demo`): its
    # users share a published password, so production never installs it.
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    "tiktok.middleware.RequestContextMiddleware",
    "tiktok.metrics.PrometheusMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS and JS, the vendored player) from the web process
    # itself: `make run`, tests and production without a proxy. Right after
    # SecurityMiddleware, so HTTPS redirects and headers still apply to them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Cross-origin API calls from the web client's origins only (WEB_CLIENT_ORIGINS).
    "corsheaders.middleware.CorsMiddleware",
    # Django's session, session-user and message middleware, skipped for cookie-less API
    # requests (Bearer tokens): the admin and cookie-carrying requests keep all three.
    "tiktok.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "tiktok.middleware.AuthenticationMiddleware",
    "tiktok.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
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
# Refuses suspended accounts at login and on every session request (accounts.backends).
AUTHENTICATION_BACKENDS = ["accounts.backends.AccountBackend"]
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

# Where `collectstatic` writes (production). Locally nothing is collected: the finders
# serve each app's files (below), and WhiteNoise would only warn about a missing root.
STATIC_ROOT = env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles") if PRODUCTION else None)
# Static files on the object store behind the CDN (``tiktok.media_storage``): set
# STATIC_FILES_ON_STORE and point DJANGO_STATIC_URL at the CDN's static path, then run
# `collectstatic` at deploy time. Otherwise the web process serves them with WhiteNoise.
STATIC_FILES_ON_STORE = env.bool("STATIC_FILES_ON_STORE", default=False)
STATIC_URL = env.str("DJANGO_STATIC_URL", default="static/")
STORAGES = {
    # What the server writes itself (processed avatars, posters) goes to the private
    # bucket; django-storages' S3 storage with URLs signed like every media URL.
    "default": {"BACKEND": "tiktok.media_storage.MediaStorage"},
    # Production without the store serves what `collectstatic` wrote (docker/Dockerfile
    # runs it): names carry a content hash (cached for a year) and gzip copies sit beside
    # them. Locally files are served straight from the apps (WHITENOISE_USE_FINDERS).
    "staticfiles": {
        "BACKEND": "tiktok.media_storage.StaticStorage"
        if STATIC_FILES_ON_STORE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Not DEBUG: the test runner turns DEBUG off, and tests must load the admin's CSS too.
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Databases: one primary, any number of streaming replicas --------------------------

DATABASE_URL = required_in_production("DATABASE_URL", "postgres://tiktok:tiktok@127.0.0.1:55432/tiktok")
# Comma-separated URLs; a URL may itself list several hosts (libpq multi-host, e.g.
# "postgres://u:p@h1:5432,h2:5432/db?target_session_attrs=prefer-standby" with failover).
DATABASE_REPLICA_URLS = [
    url.strip()
    for url in re.split(r",(?=\s*postgres(?:ql)?://)", env.str("DATABASE_REPLICA_URLS", default=""))
    if url.strip()
] or ["postgres://tiktok:tiktok@127.0.0.1:55433/tiktok"]

# Migrations: a statement that needs a lock gives up after ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT
# rather than queueing every request behind it (retry the migration); one that holds a
# table-blocking lock gives up after the statement timeout. Indexes are built CONCURRENTLY,
# NOT NULL goes through a NOT VALID check. An operation with no lock-safe form (a rename, a
# type change) only warns here: the migration linter in `make lint` refuses new ones.
ZERO_DOWNTIME_MIGRATIONS_LOCK_TIMEOUT = env.str("MIGRATION_LOCK_TIMEOUT", default="2s")
ZERO_DOWNTIME_MIGRATIONS_STATEMENT_TIMEOUT = env.str("MIGRATION_STATEMENT_TIMEOUT", default="2s")
ZERO_DOWNTIME_MIGRATIONS_FLEXIBLE_STATEMENT_TIMEOUT = True
ZERO_DOWNTIME_MIGRATIONS_RAISE_FOR_UNSAFE = False
ZERO_DOWNTIME_MIGRATIONS_IDEMPOTENT_SQL = True  # a migration stopped half-way can simply be run again
# `make lint` runs django-migration-linter (manage.py lintmigrations) over the product's
# migrations: a new one that drops or renames a column in use, adds a NOT NULL column
# without a database default, or locks a table (an index built inside a transaction: give
# such a migration ``atomic = False`` so the index is built CONCURRENTLY) fails the lint.
# The migrations below were applied everywhere before the linter ran; rewriting them
# changes nothing on any database, so they are not linted (an app's 0001_initial only
# creates new tables). Third-party apps' migrations are theirs.
MIGRATION_LINTER_OPTIONS = {
    "sql_analyser": "postgresql",
    "exclude_apps": ["admin", "auth", "contenttypes", "sessions", "knox"],
    "no_cache": True,
    "ignore_name": [
        "0001_initial",
        "0002_audit_and_report_queues",
        "0002_hashtags",
        "0002_permissions_follow_the_models",
        "0002_report_moved_to_moderation",
        "0002_user_suspend_permission",
        "0003_audit_and_report_queues_moved_to_moderation",
        "0003_blocks_mutes_notifications",
        "0003_moderators_group",
        "0003_report_weight",
        "0003_search_indexes",
        "0004_outbox_request_id",
        "0004_user_avatar",
        "0004_video_feed_id",
        "0005_drop_plaintext_tokens",
        "0006_normalize_usernames",
    ],
}
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
# A replica whose WAL receiver heard nothing from the primary for this long is served only
# if it has replayed the primary's current position (tiktok.db_router._stream_ok).
DATABASE_REPLICA_RECEIVER_SILENCE_SECONDS = env.float("DATABASE_REPLICA_RECEIVER_SILENCE_SECONDS", default=15.0)
# A replica that failed a check is not tried again for this long.
DATABASE_REPLICA_RETRY_SECONDS = env.float("DATABASE_REPLICA_RETRY_SECONDS", default=5.0)
# Each process re-checks a replica's state at most this often (a reader whose own write
# is past the known replay position re-checks at once, or reads the primary).
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=0.25)
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

# The cache on Redis Cluster (REDIS_URL names any one node): feed/store.py keeps each
# script and transaction in one hash slot; see tiktok/redis_cluster.py.
REDIS_CACHE_CLUSTER = env.bool("REDIS_CACHE_CLUSTER", default=False)
if REDIS_CACHE_CLUSTER:
    CACHES["default"]["OPTIONS"]["CONNECTION_FACTORY"] = "tiktok.redis_cluster.ClusterConnectionFactory"

# The durable Redis behind Sentinel (STACK_HA=1): REDIS_SENTINELS lists the sentinels'
# "host:port"; REDIS_DURABLE_URL is then redis://<master name>/<db> and CELERY_BROKER_URL
# "sentinel://host:port/<db>;sentinel://..." (kombu). Clients ask the sentinels for the
# master on every reconnect: a failover needs no restart.
REDIS_SENTINELS = [
    (host, int(port))
    for host, _, port in (address.rpartition(":") for address in env.list("REDIS_SENTINELS", default=[]))
]
REDIS_SENTINEL_MASTER = env.str("REDIS_SENTINEL_MASTER", default="tiktok-durable")


if REDIS_SENTINELS:
    CACHES["durable"]["OPTIONS"] |= {
        "CLIENT_CLASS": "django_redis.client.SentinelClient",
        "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        "SENTINELS": REDIS_SENTINELS,
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
# Each app declares its task routes and beat entries (``celery_task_routes`` and
# ``celery_beat_schedule`` on its AppConfig); ``tiktok.celery`` collects them.
CELERY_BEAT_SCHEDULER = "redbeat.RedBeatScheduler"
CELERY_REDBEAT_REDIS_URL = CELERY_BROKER_URL
if REDIS_SENTINELS:
    CELERY_BROKER_TRANSPORT_OPTIONS |= {"master_name": REDIS_SENTINEL_MASTER}
    CELERY_REDBEAT_REDIS_URL = "redis-sentinel://"
    CELERY_REDBEAT_REDIS_OPTIONS = {
        "sentinels": REDIS_SENTINELS,
        "service_name": REDIS_SENTINEL_MASTER,
        "db": int(CELERY_BROKER_URL.split(";")[0].rpartition("/")[2] or 0),
        "socket_timeout": 5,
    }
CELERY_REDBEAT_LOCK_TIMEOUT = env.int("CELERY_REDBEAT_LOCK_TIMEOUT", default=30)
# Tests run tasks inline unless a test starts a real worker; see tests/conftest.py.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
# Celery's Django fixup closes every database connection after every task unless this is
# set (each fan-out batch then reconnected to both servers: 26 % of its time); the worker
# closes them like a request does instead (``tiktok.celery``: CONN_MAX_AGE, health checks,
# a connection that saw an error), and the fixup still recycles them after 1,000 tasks.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# The outbox relay in every worker's main process (``tiktok.outbox.Relay``): rows claimed
# per batch; the wait after a commit's notification so that a busy moment shares a batch;
# the longest wait without one (and the back-off after a failed publish).
OUTBOX_RELAY_BATCH_SIZE = env.int("OUTBOX_RELAY_BATCH_SIZE", default=500)
OUTBOX_RELAY_LINGER_SECONDS = env.float("OUTBOX_RELAY_LINGER_SECONDS", default=0.01)
OUTBOX_RELAY_WAIT_SECONDS = env.float("OUTBOX_RELAY_WAIT_SECONDS", default=1.0)
# With a replicated broker (Sentinel), a relayed batch's rows are deleted only once this
# many replicas of the broker's master acknowledged it (Redis ``WAIT``) within the
# timeout; else they stay and are sent again: a failover to a replica that never got the
# messages loses none. A master with fewer replicas attached gets nothing (the rows wait).
# 0: the rows go once the broker accepted them.
OUTBOX_BROKER_MIN_REPLICAS = env.int("OUTBOX_BROKER_MIN_REPLICAS", default=1 if REDIS_SENTINELS else 0)
OUTBOX_BROKER_REPLICA_TIMEOUT_MS = env.int("OUTBOX_BROKER_REPLICA_TIMEOUT_MS", default=500)
# A relayed row stays until a worker ran its task to success; one still there this long
# after its publish (the broker lost the message, or the task kept failing) is sent again,
# up to OUTBOX_MAX_SENDS times in all. Longer than the visibility timeout: the broker's
# own redelivery of a killed worker's message comes first, and a task still running
# (bounded by CELERY_TASK_TIME_LIMIT) is never sent twice.
OUTBOX_RESEND_AFTER_SECONDS = env.int("OUTBOX_RESEND_AFTER_SECONDS", default=CELERY_VISIBILITY_TIMEOUT_SECONDS + 60)
OUTBOX_MAX_SENDS = env.int("OUTBOX_MAX_SENDS", default=5)

# --- Object storage (S3-compatible) ---------------------------------------------------

AWS_S3_ENDPOINT_URL = env.str("AWS_S3_ENDPOINT_URL", default="http://127.0.0.1:59000")
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="tiktok-media")
AWS_ACCESS_KEY_ID = required_in_production("AWS_ACCESS_KEY_ID", "testing")
AWS_SECRET_ACCESS_KEY = required_in_production("AWS_SECRET_ACCESS_KEY", "testing")
AWS_S3_REGION_NAME = env.str("AWS_S3_REGION_NAME", default="us-east-1")
AWS_S3_SIGNATURE_VERSION = "s3v4"
AWS_S3_ADDRESSING_STYLE = "path"
# The bucket is private. CDN mode: media URLs go to the CDN in front of it and carry a
# short-lived token (``tiktok.media_urls``), e.g. https://cdn.example.com/media/tiktok-media
# (the path the CDN maps to the bucket). Empty: direct mode, presigned GETs, and the API
# serves HLS playlists whose every child URI is presigned.
CDN_BASE_URL = env.str("CDN_BASE_URL", default="")
# Shared with the CDN (nginx ``secure_link_md5``); see docs/operations.md for rotation.
CDN_TOKEN_SECRET = required_in_production("CDN_TOKEN_SECRET", "local-cdn-token-secret") if CDN_BASE_URL else ""
# How a takedown empties the CDN's cache: "nginx" (PURGE of each object at CDN_PURGE_URL,
# the ngx_cache_purge module of the stand-in) or "none" (no CDN, or one purged elsewhere).
CDN_PURGE_BACKEND = env.str("CDN_PURGE_BACKEND", default="nginx" if CDN_BASE_URL else "none")
CDN_PURGE_URL = env.str("CDN_PURGE_URL", default="")
CDN_PURGE_TIMEOUT_SECONDS = env.float("CDN_PURGE_TIMEOUT_SECONDS", default=3.0)
# Where clients reach this API (direct mode: hls_url points at its playlist endpoint).
API_PUBLIC_BASE_URL = env.str("API_PUBLIC_BASE_URL", default="http://127.0.0.1:8000")

# --- Web client (CORS) ------------------------------------------------------------------
# The origins the reference web client is served from when it is not this process (`/`
# here is same-origin and needs none). The API answers cross-origin requests from exactly
# these; bin/stack gives the bucket the same list for the client's presigned PUTs.
WEB_CLIENT_ORIGINS = env.list(
    "WEB_CLIENT_ORIGINS",
    cast=str.strip,
    default=[]
    if PRODUCTION
    else [f"http://{host}:{env.int('PORT', default=8000)}" for host in ("127.0.0.1", "localhost")],
)
CORS_ALLOWED_ORIGINS = WEB_CLIENT_ORIGINS
CORS_URLS_REGEX = r"^/api/v1/"
CORS_ALLOW_CREDENTIALS = False  # bearer tokens in a header, never cookies
CORS_ALLOW_HEADERS = ["accept", "authorization", "content-type", "idempotency-key"]
CORS_PREFLIGHT_MAX_AGE = 600

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
        # Reports per account (on top of "writes"): enough for a real user, not for a bot.
        "reports": env.str("THROTTLE_REPORTS", default="20/hour"),
        # Reads by clients without an account, per address (scrapers, enumeration).
        "anon_reads": env.str("THROTTLE_ANON_READS", default="300/min"),
    },
    "DEFAULT_THROTTLE_CLASSES": ["tiktok.throttles.AnonReadThrottle"],
}
# ``Idempotency-Key`` on creating POSTs (``tiktok.idempotency``): a key's first answer is
# replayed for this long; a claim whose request never answered is taken over after
# IDEMPOTENCY_CLAIM_SECONDS (longer than any request may run).
IDEMPOTENCY_KEY_TTL_SECONDS = env.int("IDEMPOTENCY_KEY_TTL_SECONDS", default=24 * 3600)
IDEMPOTENCY_CLAIM_SECONDS = env.int("IDEMPOTENCY_CLAIM_SECONDS", default=60)
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
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "tiktok.schema.add_error_responses",
    ],
}

# Bearer tokens (django-rest-knox): SHA-512 digests stored, one per device, expiring.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Bearer",
    "TOKEN_TTL": timedelta(seconds=env.int("TOKEN_TTL_SECONDS", default=30 * 86400)),
    "AUTO_REFRESH": False,
}
# Devices (tokens) per user; logging in on one more revokes the oldest.
TOKEN_LIMIT_PER_USER = env.int("TOKEN_LIMIT_PER_USER", default=20)
# Token -> user entries in the durable Redis (``accounts.tokens``); a revocation replaces
# the entry with a marker kept this long, so no concurrent miss can put it back.
TOKEN_CACHE_SECONDS = env.int("TOKEN_CACHE_SECONDS", default=300)

# Proxies in front of the web process that set X-Forwarded-For (nginx: 1). 0 means the
# TCP peer is the client and the header is ignored (``tiktok.client_address``).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Failed logins (``accounts.login_guard``), all within LOGIN_FAILURE_WINDOW_SECONDS:
# per (account, address) the first LOGIN_BACKOFF_FREE_FAILURES are free, then each
# failure doubles the wait (capped); an account that failed LOGIN_ACCOUNT_FAILURE_LIMIT
# times from anywhere takes attempts only from addresses that logged into it before;
# an address that failed LOGIN_FAILURE_LIMIT times (any accounts) is refused.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=30)
LOGIN_FAILURE_WINDOW_SECONDS = env.int("LOGIN_FAILURE_WINDOW_SECONDS", default=900)
LOGIN_BACKOFF_FREE_FAILURES = env.int("LOGIN_BACKOFF_FREE_FAILURES", default=3)
LOGIN_BACKOFF_MAX_SECONDS = env.int("LOGIN_BACKOFF_MAX_SECONDS", default=900)
LOGIN_ACCOUNT_FAILURE_LIMIT = env.int("LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
LOGIN_KNOWN_ADDRESS_DAYS = env.int("LOGIN_KNOWN_ADDRESS_DAYS", default=90)

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


# Content-Security-Policy (django-csp) on every HTML page: the admin, the moderators'
# console and the web client run only the project's own scripts; media, posters and
# uploads may also reach the object store and the CDN. /api/docs (internal only) loads
# Swagger UI with an inline script and is left out.
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


_MEDIA_ORIGINS = sorted({origin for origin in (_origin(CDN_BASE_URL), _origin(AWS_S3_ENDPOINT_URL)) if origin})
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],  # the admin's widgets set style attributes
        "img-src": ["'self'", "data:", "blob:", *_MEDIA_ORIGINS],
        "media-src": ["'self'", "blob:", *_MEDIA_ORIGINS],
        "connect-src": ["'self'", *_MEDIA_ORIGINS],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# /healthz, /readyz and /metrics answer plain HTTP probes and scrapes from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- Metrics --------------------------------------------------------------------------

# Addresses (TCP peer, CIDR allowed) of the internal network: they alone may read /readyz,
# /api/schema and /api/docs (and, by default, /metrics). The public proxy must not
# forward those paths either (docker/nginx/nginx.conf answers 404): behind it every
# peer is the proxy's own private address.
INTERNAL_ALLOWED_IPS = env.list(
    "INTERNAL_ALLOWED_IPS",
    cast=str.strip,
    default=["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)
# Addresses that may read /metrics (Prometheus may scrape from elsewhere than probes).
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", cast=str.strip, default=INTERNAL_ALLOWED_IPS)

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
# Limits checked on what ffmpeg decodes, not on what the container header claims.
VIDEO_MAX_FRAME_RATE = env.float("VIDEO_MAX_FRAME_RATE", default=120.0)
VIDEO_MAX_DIMENSION = env.int("VIDEO_MAX_DIMENSION", default=4096)
VIDEO_MAX_PIXELS = env.int("VIDEO_MAX_PIXELS", default=4096 * 2304)
# Demuxers ffmpeg may use on an upload (VIDEO_ALLOWED_CONTENT_TYPES); no playlists, no concat.
VIDEO_INPUT_FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm"
VIDEO_CAPTION_MAX_LENGTH = 2200
VIDEO_UPLOAD_URL_EXPIRY_SECONDS = env.int("VIDEO_UPLOAD_URL_EXPIRY_SECONDS", default=600)
# An upload never completed is deleted this long after its URL expired.
VIDEO_ABANDONED_UPLOAD_GRACE = timedelta(seconds=env.int("VIDEO_ABANDONED_UPLOAD_GRACE_SECONDS", default=3600))
VIDEO_PLAYBACK_URL_EXPIRY_SECONDS = env.int("VIDEO_PLAYBACK_URL_EXPIRY_SECONDS", default=3600)
VIDEO_CARD_CACHE_SECONDS = env.int("VIDEO_CARD_CACHE_SECONDS", default=300)
VIDEO_PROCESSING_MAX_ATTEMPTS = env.int("VIDEO_PROCESSING_MAX_ATTEMPTS", default=5)
VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS = env.int("VIDEO_UPLOAD_COMPLETE_GRACE_SECONDS", default=300)
# (rendition short side in pixels, peak video bits/s): never upscaled.
VIDEO_RENDITION_LADDER = ((360, 900_000), (720, 2_800_000))
# AV1 ladder (videos/av1.py): encoded once a video's views reach the threshold, where
# the egress it saves pays for its encode (BENCHMARKS.md, "AV1 ladder").
AV1_VIEW_THRESHOLD = env.int("AV1_VIEW_THRESHOLD", default=1000)
AV1_PRESET = env.int("AV1_PRESET", default=10)
AV1_CRF = env.int("AV1_CRF", default=35)
# AV1 rung's peak bitrate as a share of the H.264 rung's (equal SSIM at ~0.7, BENCHMARKS.md).
AV1_MAX_BITRATE_RATIO = env.float("AV1_MAX_BITRATE_RATIO", default=0.7)
# Bucket lifecycle (videos/lifecycle.py, applied by bin/stack; docs/operations.md).
STORAGE_ORIGINALS_IA_DAYS = env.int("STORAGE_ORIGINALS_IA_DAYS", default=30)
STORAGE_QUARANTINE_EXPIRY_DAYS = env.int("STORAGE_QUARANTINE_EXPIRY_DAYS", default=180)
STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS = env.int("STORAGE_ABANDONED_UPLOAD_EXPIRY_DAYS", default=2)

# Profile pictures (``accounts.avatars``): presigned upload, verified and resized by the worker.
AVATAR_MAX_UPLOAD_BYTES = env.int("AVATAR_MAX_UPLOAD_BYTES", default=5 * 1024 * 1024)
AVATAR_ALLOWED_CONTENT_TYPES = ["image/jpeg", "image/png", "image/webp"]
AVATAR_MAX_DIMENSION = 4096  # pixels on either side; larger images are refused undecoded
AVATAR_SIZES = {"avatar": 320, "thumbnail": 96}  # square sizes made from each upload
AVATAR_UPLOAD_URL_EXPIRY_SECONDS = 600

COMMENT_MAX_LENGTH = 500

# --- Notifications (``activity.notifications``) ------------------------------------------
# Likes (and follows) of one target within one window of this length are one inbox item.
NOTIFICATION_AGGREGATE_SECONDS = env.int("NOTIFICATION_AGGREGATE_SECONDS", default=6 * 3600)
NOTIFICATION_MAX_PER_RECIPIENT = env.int("NOTIFICATION_MAX_PER_RECIPIENT", default=200)
NOTIFICATION_RETENTION_DAYS = env.int("NOTIFICATION_RETENTION_DAYS", default=30)
MENTIONS_MAX_PER_TEXT = 10
# Device push: a class with ``send(*, recipient_id, notification_id, kind, actor_id)``.
NOTIFICATION_PUSH_BACKEND = env.str(
    "NOTIFICATION_PUSH_BACKEND", default="activity.notifications.services.NoopPushBackend"
)

FEED_MAX_ITEMS = env.int("FEED_MAX_ITEMS", default=500)
# Followers per fan-out task: each task pays a fixed cost (its checks on the primary, new
# database connections, broker round trips), so 10^5 followers take 20 tasks, not 100
# (2.0 s -> 0.8 s on the large bench set); its Redis writes go in calls of 1000 feeds.
FANOUT_BATCH_SIZE = env.int("FANOUT_BATCH_SIZE", default=5000)
BIG_CREATOR_FOLLOWERS = env.int("BIG_CREATOR_FOLLOWERS", default=10000)
FEED_FOLLOW_BACKFILL = env.int("FEED_FOLLOW_BACKFILL", default=50)
FEED_INACTIVE_DAYS = env.int("FEED_INACTIVE_DAYS", default=30)
# FEED_MAX_ITEMS and FEED_SEEN_MAX stay at most ``zset-max-listpack-entries`` (512 in
# bin/stack): a listpack sorted set costs 12-16 B per entry, a skiplist (past it) ~100 B.
FEED_SEEN_MAX = env.int("FEED_SEEN_MAX", default=500)
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

# --- Discovery: hashtags, search, For You ----------------------------------------------
HASHTAG_MAX_PER_CAPTION = 20
HASHTAG_MAX_LENGTH = 100
# Hashtag.video_count (public videos) is recounted exactly this often (it also moves at
# once when a video carrying the tag is published or withdrawn, for tags under
# HASHTAG_EXACT_COUNT_LIMIT videos; bigger ones wait for the recount).
HASHTAG_EXACT_COUNT_LIMIT = env.int("HASHTAG_EXACT_COUNT_LIMIT", default=10_000)
HASHTAG_RECOUNT_SECONDS = env.float("HASHTAG_RECOUNT_SECONDS", default=60.0)
SEARCH_QUERY_MAX_LENGTH = 100
# Ranked results page by offset; past this many a query must be refined.
SEARCH_MAX_OFFSET = 500
# Full-text matches ranked per video query: the newest this many matches (bounds the work
# of a common word on a large catalogue).
SEARCH_VIDEO_CANDIDATES = env.int("SEARCH_VIDEO_CANDIDATES", default=2000)
# For You (``discovery.for_you``): a ranked list per user, rebuilt by Celery after engagement.
FOR_YOU_MAX_ITEMS = env.int("FOR_YOU_MAX_ITEMS", default=200)
FOR_YOU_LIST_SECONDS = env.int("FOR_YOU_LIST_SECONDS", default=86400)  # unread lists expire
FOR_YOU_CANDIDATE_DAYS = env.int("FOR_YOU_CANDIDATE_DAYS", default=30)  # candidates published since
FOR_YOU_COMPLETION_RATIO = 0.8  # a view of this share of the video is a completion
FOR_YOU_SKIP_MS = 2000  # a view shorter than this is a skip
FOR_YOU_EXPLORE_HOURS = 48  # exploration: videos this fresh ...
FOR_YOU_EXPLORE_MAX_VIEWS = 50  # ... with fewer views than this
FOR_YOU_EXPLORE_SAMPLE = 30
FOR_YOU_DIVERSITY_WINDOW = 10  # at most FOR_YOU_PER_CREATOR cards of one creator in any
FOR_YOU_PER_CREATOR = 2  # FOR_YOU_DIVERSITY_WINDOW consecutive ones
# Beat picks users who engaged since the last ticks and rebuilds their list (debounced).
FOR_YOU_ENGAGED_INTERVAL_SECONDS = env.float("FOR_YOU_ENGAGED_INTERVAL_SECONDS", default=15.0)
FOR_YOU_REBUILD_DEBOUNCE_SECONDS = env.float("FOR_YOU_REBUILD_DEBOUNCE_SECONDS", default=10.0)
FOR_YOU_ENGAGED_USERS_PER_TICK = env.int("FOR_YOU_ENGAGED_USERS_PER_TICK", default=5000)
# Co-engagement (viewers who liked or finished A also did B), recomputed by beat, bounded.
FOR_YOU_CO_INTERVAL_SECONDS = env.float("FOR_YOU_CO_INTERVAL_SECONDS", default=300.0)
FOR_YOU_CO_WINDOW_DAYS = env.int("FOR_YOU_CO_WINDOW_DAYS", default=7)
FOR_YOU_CO_MAX_EVENTS = env.int("FOR_YOU_CO_MAX_EVENTS", default=100_000)
FOR_YOU_CO_PER_USER = 30  # newest engaged videos per user that pair up
FOR_YOU_CO_NEIGHBOURS = 20  # neighbours kept per video
FOR_YOU_CO_MAX_VIDEOS = env.int("FOR_YOU_CO_MAX_VIDEOS", default=50_000)
# Hashtag pools (each tag's best recent videos, ``discovery.pools``), refreshed by beat.
FOR_YOU_TAG_POOLS_INTERVAL_SECONDS = env.float("FOR_YOU_TAG_POOLS_INTERVAL_SECONDS", default=120.0)
# The ranker (``discovery.model``), refitted by beat on the last window's likes (bounded).
FOR_YOU_MODEL_INTERVAL_SECONDS = env.float("FOR_YOU_MODEL_INTERVAL_SECONDS", default=3600.0)
FOR_YOU_MODEL_WINDOW_DAYS = env.int("FOR_YOU_MODEL_WINDOW_DAYS", default=7)
FOR_YOU_MODEL_USERS = env.int("FOR_YOU_MODEL_USERS", default=300)  # viewers sampled per fit
FOR_YOU_MODEL_SECONDS = env.float("FOR_YOU_MODEL_SECONDS", default=120.0)  # time spent building examples

COUNTER_FLUSH_SECONDS = env.float("COUNTER_FLUSH_SECONDS", default=5.0)
# A video is hidden (pending review) once its open reports weigh this much in total; a
# report weighs 0 to 1 by its reporter's age and standing (moderation.weights.report_weight).
REPORT_AUTO_HIDE_THRESHOLD = env.int("REPORT_AUTO_HIDE_THRESHOLD", default=5)
REPORT_MIN_ACCOUNT_AGE_HOURS = env.int("REPORT_MIN_ACCOUNT_AGE_HOURS", default=24)  # younger: weight 0
REPORT_FULL_WEIGHT_ACCOUNT_AGE_DAYS = env.int("REPORT_FULL_WEIGHT_ACCOUNT_AGE_DAYS", default=7)
# Past this many reports of one target within an hour, more are recorded but weigh 0.
REPORT_TARGET_COUNTED_PER_HOUR = env.int("REPORT_TARGET_COUNTED_PER_HOUR", default=20)

# --- Periodic tasks (Celery beat; RedBeat holds a lock so a second beat stays idle) ----
# The entries are each app's (``celery_beat_schedule`` on its AppConfig); their intervals:
WORKER_HEARTBEAT_SECONDS = env.float("WORKER_HEARTBEAT_SECONDS", default=30.0)
