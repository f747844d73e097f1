"""Domain errors and the one translation of every error into the API's error shape.

Every error response of the API is ``{"error": {"code", "message", "fields"}}``.
Services raise ``ApplicationError`` (or a subclass); views never build error
responses by hand.
"""

import logging

import botocore.exceptions
import redis.exceptions
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from kombu.exceptions import OperationalError as BrokerError
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tiktok import db_router

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A request that cannot be carried out, with a status, a code and a message."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(
        self, message: str, *, code: str | None = None, fields: dict | None = None, status_code: int | None = None
    ):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.fields = fields or {}


class NotFoundError(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class PermissionDeniedError(ApplicationError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class ConflictError(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class ServiceUnavailableError(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"


_TOO_LARGE = ("request_too_large", "The request body is larger than the server accepts.")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten_fields(detail) -> dict:
    """DRF validation detail -> {"field": ["message", ...]} (nested keys joined by '.')."""
    fields: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list):
            if all(not isinstance(item, (dict, list)) for item in value):
                fields.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in value)
            else:
                for index, inner in enumerate(value):
                    walk(f"{prefix}.{index}" if prefix else str(index), inner)
        else:
            fields.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return fields


def _unavailable(exc: Exception) -> tuple[str, str] | None:
    """Map infrastructure failures to a 503 code and message."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        return "database_unavailable", "The database is unavailable; try again shortly."
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "cache_unavailable", "A backing service is unavailable; try again shortly."
    if isinstance(exc, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError)):
        return "storage_unavailable", "Object storage is unavailable; try again shortly."
    if isinstance(exc, BrokerError):
        return "queue_unavailable", "The task queue is unavailable; try again shortly."
    return None


def api_exception_handler(exc: Exception, context) -> Response:
    if isinstance(exc, ApplicationError):
        response = Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            response["Retry-After"] = str(int(retry_after))
        return response

    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(*_TOO_LARGE), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)

    unavailable = _unavailable(exc)
    if unavailable is not None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            db_router.replicas_failed()  # a dead replica: the middleware retries on the primary
        logger.warning("service unavailable: %s", exc)
        response = Response(error_body(*unavailable), status=status.HTTP_503_SERVICE_UNAVAILABLE)
        response["Retry-After"] = "5"
        return response

    response = drf_exception_handler(exc, context)
    if response is None:
        if isinstance(exc, DatabaseError):
            logger.exception("database error")
        else:
            logger.exception("unhandled error")
        return Response(
            error_body("server_error", "Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, drf_exceptions.ValidationError):
        fields = _flatten_fields(exc.detail)
        response.data = error_body("invalid", "The request is not valid.", fields)
        return response

    detail = getattr(exc, "detail", None)
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, drf_exceptions.APIException) and hasattr(detail, "code") and detail.code:
        code = detail.code
    response.data = error_body(str(code), str(detail) if detail is not None else str(exc))
    return response


def json_not_found(request, exception=None):
    return JsonResponse(error_body("not_found", "No such resource."), status=404)


def json_server_error(request):
    return JsonResponse(error_body("server_error", "Something went wrong on our side."), status=500)


def json_bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):  # read outside a DRF view (middleware, Django views)
        return JsonResponse(error_body(*_TOO_LARGE), status=413)
    return JsonResponse(error_body("bad_request", "Bad request."), status=400)


def json_permission_denied(request, exception=None):
    return JsonResponse(error_body("permission_denied", "You may not do that."), status=403)
