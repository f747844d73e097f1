"""Settings for the test suite: the project's settings on resources of its own.

Tests share the local stack with ``make run`` (and with other test runs on the same
machine). Each run claims a free *slot* (a lock file held for the life of the process)
and uses that slot's test database, Redis databases, broker and bucket, so neither
disturbs the other. Worker processes started by the tests inherit the slot through
``TEST_SLOT`` and the explicit URLs in their environment.
"""

import fcntl
import os

SLOTS = 7  # Redis has 16 databases: 0-1 are for `make run`, each slot takes two.


def _claim_slot() -> int:
    if os.environ.get("TEST_SLOT"):
        return int(os.environ["TEST_SLOT"])
    for slot in range(SLOTS):
        handle = open(f"/tmp/tiktok-test-slot-{slot}.lock", "w")  # noqa: SIM115, S108 - held until exit
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        globals()["_SLOT_LOCK"] = handle
        os.environ["TEST_SLOT"] = str(slot)
        return slot
    raise RuntimeError(f"all {SLOTS} test slots are in use")


def _redis_db(url: str, index: int) -> str:
    """The same Redis server as ``url``, database ``index``."""
    return f"{url.rsplit('/', 1)[0]}/{index}"


TEST_SLOT = _claim_slot()
if not os.environ.get("TEST_SETTINGS_APPLIED"):
    # Redis servers come from the environment (`bin/stack env`); the databases are the slot's.
    _broker = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:56379/0")
    _cache = os.environ.get("REDIS_URL", "redis://127.0.0.1:56380/0")
    os.environ["CELERY_BROKER_URL"] = _redis_db(_broker, 2 + 2 * TEST_SLOT)
    os.environ["REDIS_DURABLE_URL"] = _redis_db(_broker, 3 + 2 * TEST_SLOT)
    os.environ["REDIS_URL"] = _redis_db(_cache, 2 + TEST_SLOT)
    os.environ["AWS_STORAGE_BUCKET_NAME"] = f"tiktok-media-test-{TEST_SLOT}"
    if os.environ.get("CDN_BASE_URL"):  # the stack's CDN serves each bucket at /media/<bucket>
        _cdn = os.environ["CDN_BASE_URL"].rstrip("/").rsplit("/", 1)[0]
        os.environ["CDN_BASE_URL"] = f"{_cdn}/{os.environ['AWS_STORAGE_BUCKET_NAME']}"
    os.environ["TEST_SETTINGS_APPLIED"] = "1"
os.environ.setdefault("THROTTLE_AUTH", "100000/min")
os.environ.setdefault("THROTTLE_WRITES", "100000/min")
os.environ.setdefault("THROTTLE_UPLOADS", "100000/min")
os.environ.setdefault("THROTTLE_REPORTS", "100000/min")
os.environ.setdefault("THROTTLE_ANON_READS", "100000/min")
os.environ.setdefault("LOGIN_FAILURE_LIMIT", "1000")

from tiktok.settings import *  # noqa: E402, F403

DATABASES["default"]["TEST"] = {"NAME": f"test_tiktok_{TEST_SLOT}"}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
# Tasks run inline in the test process; a real worker started by a test gets "0" in its
# environment, so the tasks it enqueues go through the broker as in production.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "1") != "0"
