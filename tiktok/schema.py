"""The OpenAPI schema's error answers: every status an operation can give, in one shape.

A drf-spectacular post-processing hook. Every error of the API has the body
``{"error": {"code", "message", "fields"}}`` (``tiktok.exceptions``); this hook adds the
``Error`` component and, to each operation, the error statuses it can answer, derived
from what the operation is:

- 400 when it takes a body or query parameters (validation), 413 when it takes a body;
- 401 everywhere (a missing token where one is required, and an invalid or revoked
  token sent to any operation), 403 when it changes something as a signed-in user
  (owner-only and staff-only actions);
- 404 when its path names a resource;
- 409 when it acts on a resource (``POST`` under a resource path or without a body, e.g.
  ``/me/avatar/complete``: the resource is in the wrong state) or honours
  ``Idempotency-Key`` (a duplicate in flight), 422 for a reused key;
- 429 everywhere (throttles) and 503 everywhere (a backing service is down).

An operation's own documented answers are kept; only missing statuses are added. Every
``limit`` query parameter gets its bounds (1 to ``API_PAGE_SIZE_MAX``), as
``tiktok.pagination.page_limit`` enforces them.
"""

from __future__ import annotations

from django.conf import settings

ERROR_COMPONENT = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "A stable machine-readable code, e.g. `not_found`."},
                "message": {"type": "string", "description": "A sentence for people."},
                "fields": {
                    "type": "object",
                    "description": "Per input field (or header), what is wrong with it.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

DESCRIPTIONS = {
    "400": "The request is not valid (see `error.fields`).",
    "401": "No valid token.",
    "403": "Not allowed for this user.",
    "404": "No such resource (or hidden from this user).",
    "409": "Conflicts with the current state (e.g. the same Idempotency-Key still in flight).",
    "413": "The request body is too large.",
    "422": "The Idempotency-Key was used with a different request.",
    "429": "Too many requests; see the Retry-After header.",
    "503": "A backing service is unavailable; retry after the Retry-After header.",
}
_SAFE_METHODS = {"get", "head", "options"}


def _error_statuses(method: str, path: str, operation: dict) -> set[str]:
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    statuses = {"401", "429", "503"}
    if has_body or any(parameter.get("in") == "query" for parameter in parameters):
        statuses.add("400")
    if has_body:
        statuses.add("413")
    security = operation.get("security")
    anonymous_allowed = security is None or security == [] or {} in security
    if not anonymous_allowed and method not in _SAFE_METHODS:
        statuses.add("403")
    if "{" in path:
        statuses.add("404")
    if any(parameter.get("in") == "header" and parameter.get("name") == "Idempotency-Key" for parameter in parameters):
        statuses.update({"409", "422"})
    if method == "post" and ("{" in path or not has_body):
        statuses.add("409")  # an action on a resource in the wrong state (e.g. completed already)
    return statuses


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Post-processing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_COMPONENT
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter.get("name") == "limit":
                    parameter["schema"] = {
                        **parameter.get("schema", {}),
                        "minimum": 1,
                        "maximum": settings.API_PAGE_SIZE_MAX,
                    }
            responses = operation["responses"]
            for status in sorted(_error_statuses(method, path, operation)):
                responses.setdefault(
                    status,
                    {"description": DESCRIPTIONS[status], "content": {"application/json": {"schema": reference}}},
                )
    return result
