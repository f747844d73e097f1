"""Rate limits that hold under concurrency.

DRF's built-in throttles read, append and write a history list, so parallel requests
can all pass. These count with one atomic Redis ``INCR`` per fixed window instead.
If Redis is unreachable the request is let through (and logged): an outage of the
cache should not lock everyone out. Anonymous clients are counted by the address
``tiktok.client_address`` trusts, never by a client-supplied ``X-Forwarded-For``.
"""

import logging
import time

from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.throttling import BaseThrottle

from tiktok.client_address import client_limit_key
from tiktok.keys import THROTTLE_KEY

logger = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period]


class RedisRateThrottle(BaseThrottle):
    """Fixed-window limit for one ``scope`` from ``REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']``."""

    scope = ""

    def __init__(self):
        self.wait_seconds: float | None = None

    def get_ident(self, request) -> str:
        return client_limit_key(request)

    def get_ident_for(self, request, view) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{self.get_ident(request)}"

    def allow_request(self, request, view) -> bool:
        rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
        limit, period = parse_rate(rates[self.scope])
        now = time.time()
        window = int(now // period)
        key = THROTTLE_KEY.format(scope=self.scope, ident=self.get_ident_for(request, view), window=window)
        try:
            client = get_redis_connection("default")
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count = pipe.execute()[0]
        except Exception:  # noqa: BLE001 - fail open, see module docstring
            logger.warning("throttle %s skipped: Redis unavailable", self.scope)
            return True
        if count > limit:
            self.wait_seconds = (window + 1) * period - now
            return False
        return True

    def wait(self):
        return self.wait_seconds


class AuthThrottle(RedisRateThrottle):
    """Register and login (the API's and the admin's), per client address."""

    scope = "auth"

    def get_ident_for(self, request, view) -> str:
        return f"ip:{self.get_ident(request)}"


class AnonReadThrottle(RedisRateThrottle):
    """Reads by clients without an account, per client address (the default throttle)."""

    scope = "anon_reads"

    def allow_request(self, request, view) -> bool:
        if request.method not in SAFE_METHODS or (request.user and request.user.is_authenticated):
            return True
        return super().allow_request(request, view)


class WriteThrottle(RedisRateThrottle):
    """Follows, likes, favorites, comments, reports: per user.

    Reads of the same view (a video, its comments) keep the anonymous read limit, which
    a view's own ``throttle_classes`` would otherwise replace.
    """

    scope = "writes"

    def allow_request(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            reads = AnonReadThrottle()
            allowed = reads.allow_request(request, view)
            self.wait_seconds = reads.wait_seconds
            return allowed
        return super().allow_request(request, view)


class ReportThrottle(RedisRateThrottle):
    """Reports per account, on top of ``WriteThrottle``: reporting is cheap, reviewing is not."""

    scope = "reports"


class UploadThrottle(RedisRateThrottle):
    scope = "uploads"

    def allow_request(self, request, view) -> bool:
        if request.method != "POST":
            return True
        return super().allow_request(request, view)
