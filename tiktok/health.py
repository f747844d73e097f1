"""Liveness and readiness probes."""

import time

from django.conf import settings
from django.db import connections
from django.http import JsonResponse
from django_redis import get_redis_connection

from tiktok import db_router


def healthz(request):
    """The process is alive and serving."""
    return JsonResponse({"status": "ok"})


def _check_primary() -> dict:
    with connections[db_router.PRIMARY].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def _check_replica(alias: str) -> dict:
    state = db_router.check_replica(alias)
    return {"ok": state.healthy, "lag_seconds": round(state.lag_seconds, 3)}


def _check_redis(alias: str) -> dict:
    get_redis_connection(alias).ping()
    return {"ok": True}


def _check_store() -> dict:
    from tiktok.storage import s3_client

    s3_client().head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    return {"ok": True}


def readyz(request):
    """Every dependency answers: primary, replicas (and their lag), both Redis, the store.

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
