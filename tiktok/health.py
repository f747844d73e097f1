"""Liveness and readiness probes, and the guard for endpoints only the internal network sees."""

import ipaddress
import time
from functools import lru_cache, wraps

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django_redis import get_redis_connection

from tiktok import db_router
from tiktok.exceptions import error_body


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


def internal_client(request) -> bool:
    """Whether the TCP peer (never a forwarded header) is in ``INTERNAL_ALLOWED_IPS``."""
    try:
        ip = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.INTERNAL_ALLOWED_IPS)))


def internal_only(view):
    """Serve ``view`` to internal addresses only; anyone else gets the API's 404.

    A 404 rather than a 403: the public side learns nothing about what exists.
    """

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not internal_client(request):
            return JsonResponse(error_body("not_found", "No such resource."), status=404)
        return view(request, *args, **kwargs)

    return guarded


def healthz(request):
    """The process is alive and serving."""
    return JsonResponse({"status": "ok"})


def _check_primary() -> dict:
    with connections[db_router.PRIMARY].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_replica(alias: str) -> dict:
    state = db_router.check_replica(alias)
    return {"ok": state.healthy, "lag_seconds": round(state.lag_seconds, 3), "streaming": state.streaming}


def _check_redis(alias: str) -> dict:
    get_redis_connection(alias).ping()
    return {"ok": True}


def _check_store() -> dict:
    from tiktok.storage import s3_client

    s3_client().head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    return {"ok": True}


@internal_only
def readyz(request):
    """Every dependency answers: primary, replicas (and their lag), both Redis, the store.

    Internal addresses only: the answer names the infrastructure and its failures.

    A lagging or stopped replica does not make the web process unready (the primary
    serves its reads), but it is reported; the others are required.
    """
    checks = {"primary": _check_primary, "redis_cache": lambda: _check_redis("default")}
    checks["redis_durable"] = lambda: _check_redis("durable")
    checks["store"] = _check_store
    for alias in db_router.replica_aliases():
        checks[alias] = lambda alias=alias: _check_replica(alias)
    results: dict[str, dict] = {}
    started = time.monotonic()
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - report which part failed
            results[name] = {"ok": False, "error": exc.__class__.__name__}
    required = [name for name in results if not name.startswith("replica")]
    failing = [name for name in required if not results[name]["ok"]]
    body = {
        "status": "ok" if not failing else "unavailable",
        "failing": failing,
        "checks": results,
        "elapsed_ms": round((time.monotonic() - started) * 1000, 1),
    }
    return JsonResponse(body, status=200 if not failing else 503)
