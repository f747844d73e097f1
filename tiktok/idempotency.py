"""Safe retries of creating ``POST`` requests: the ``Idempotency-Key`` request header.

The semantics are Stripe's (and the IETF httpapi draft's). A client that sends
``Idempotency-Key: <unique string>`` with a ``POST`` and never saw the answer may send
the same request again with the same key:

- the same key from the same caller (the user; before sign-up, the client's address)
  with the same method, path and body within ``IDEMPOTENCY_KEY_TTL_SECONDS`` (24 h)
  answers the first response again, with ``Idempotent-Replayed: true``, and acts no
  second time;
- the same key with a different body is a 422 (``idempotency_key_reused``);
- a duplicate that arrives while the first is still running is a 409
  (``idempotency_key_in_use``): retry it shortly and it is answered from the record;
- a first request that failed (any error) keeps nothing: its retry runs afresh, which
  is safe because a failed request wrote nothing.

The key is claimed in PostgreSQL before the view runs (one ``INSERT ... ON CONFLICT DO
NOTHING`` on the primary, outside the view's transaction, so a concurrent duplicate
sees it) and the answer is stored once the view succeeded. A claim whose request died
before answering is taken over after ``IDEMPOTENCY_CLAIM_SECONDS``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connections
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from tiktok.client_address import client_address
from tiktok.db_router import PRIMARY
from tiktok.exceptions import ApplicationError, ConflictError
from tiktok.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as the draft's sf-string allows

# The header as the OpenAPI schema documents it on every operation that honours it.
PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "A unique string (1-255 visible ASCII characters, e.g. a UUID) that makes a retry of this request safe:"
        " the same key with the same body within 24 hours answers the first response again (header"
        " `Idempotent-Replayed: true`) without acting twice; with another body it is a 422"
        " (`idempotency_key_reused`); while the first request still runs, a 409 (`idempotency_key_in_use`)."
    ),
)

_TABLE = IdempotencyRecord._meta.db_table
_CLAIM_SQL = (
    f"INSERT INTO {_TABLE} (scope, key, fingerprint, status_code, body, location, created_at) "  # noqa: S608
    "VALUES (%s, %s, %s, NULL, NULL, '', now()) "
    "ON CONFLICT (scope, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, status_code = NULL, body = NULL, "
    "location = '', created_at = now() "
    # Take over only a record that is expired, or a claim whose request died unanswered.
    f"WHERE {_TABLE}.created_at < now() - make_interval(secs => %s) "
    f"OR ({_TABLE}.status_code IS NULL AND {_TABLE}.created_at < now() - make_interval(secs => %s)) "
    "RETURNING id"
)


@dataclass(frozen=True)
class _Claim:
    record_id: int


def _scope(request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"address:{client_address(request)}"


def _fingerprint(request) -> str:
    # Keyed (a body may carry a password: register), so a stored fingerprint reveals nothing.
    digest = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    for part in (request.method.encode(), request.path.encode(), request.body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def _claim(*, scope: str, key: str, fingerprint: str) -> _Claim | Response:
    """Own the key (a ``_Claim``) or the answer a duplicate gets (a replay); raises on a conflict."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(
            _CLAIM_SQL,
            [scope, key, fingerprint, settings.IDEMPOTENCY_KEY_TTL_SECONDS, settings.IDEMPOTENCY_CLAIM_SECONDS],
        )
        row = cursor.fetchone()
    if row is not None:
        return _Claim(record_id=row[0])
    # primary: the first request's record was written a moment ago, maybe by another process
    record = IdempotencyRecord.objects.using(PRIMARY).filter(scope=scope, key=key).first()
    if record is None:  # deleted between the two statements (its first request failed): try once more
        return _claim_again(scope=scope, key=key, fingerprint=fingerprint)
    if record.fingerprint != fingerprint:
        raise ApplicationError(
            "This Idempotency-Key was used with a different request.",
            code="idempotency_key_reused",
            status_code=422,
            fields={HEADER: ["Use a new key for a new request."]},
        )
    if record.status_code is None:
        raise ConflictError(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_use",
        )
    response = Response(record.body, status=record.status_code)
    if record.location:
        response["Location"] = record.location
    response[REPLAYED_HEADER] = "true"
    return response


def _claim_again(*, scope: str, key: str, fingerprint: str) -> _Claim | Response:
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {_TABLE} (scope, key, fingerprint, status_code, body, location, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, NULL, NULL, '', now()) ON CONFLICT (scope, key) DO NOTHING RETURNING id",
            [scope, key, fingerprint],
        )
        row = cursor.fetchone()
    if row is None:
        raise ConflictError(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_use",
        )
    return _Claim(record_id=row[0])


def _store(claim: _Claim, response: Response) -> None:
    body = json.loads(json.dumps(response.data, cls=JSONEncoder))
    IdempotencyRecord.objects.filter(pk=claim.record_id).update(
        status_code=response.status_code, body=body, location=response.get("Location", "")[:500]
    )


def _release(claim: _Claim) -> None:
    IdempotencyRecord.objects.filter(pk=claim.record_id, status_code__isnull=True).delete()


def idempotent(handler):
    """Decorate a DRF view's ``post``: honour ``Idempotency-Key`` (see the module docstring).

    Runs after authentication, permissions and throttles (inside the handler), so a
    duplicate is refused or replayed for the caller it belongs to.
    """

    @functools.wraps(handler)
    def post(view, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return handler(view, request, *args, **kwargs)
        if not _KEY_PATTERN.fullmatch(key):
            raise ApplicationError(
                "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
                code="invalid_idempotency_key",
                fields={HEADER: ["1 to 255 visible ASCII characters."]},
            )
        outcome = _claim(scope=_scope(request), key=key, fingerprint=_fingerprint(request))
        if isinstance(outcome, Response):
            return outcome
        try:
            response = handler(view, request, *args, **kwargs)
        except BaseException:
            _release(outcome)
            raise
        if 200 <= response.status_code < 300:
            _store(outcome, response)
        else:
            _release(outcome)
        return response

    return post


def records_delete_expired() -> int:
    """Delete records past their time to live; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
