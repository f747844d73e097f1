"""Settings for the test suite: the project's settings on separate Redis databases.

Tests share the local stack with ``make run``; their broker queue, cache and counters
live in Redis databases of their own so neither disturbs the other.
"""

import os

os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:56379/2")
os.environ.setdefault("REDIS_DURABLE_URL", "redis://127.0.0.1:56379/3")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:56380/2")
os.environ.setdefault("THROTTLE_AUTH", "100000/min")
os.environ.setdefault("THROTTLE_WRITES", "100000/min")
os.environ.setdefault("THROTTLE_UPLOADS", "100000/min")
os.environ.setdefault("LOGIN_FAILURE_LIMIT", "1000")
os.environ.setdefault("AWS_STORAGE_BUCKET_NAME", "tiktok-media-test")

from tiktok.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = True
