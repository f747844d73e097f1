"""Keyset (cursor) pagination shared by every list endpoint.

A page is ``{"items": [...], "next_cursor": "..." | null}``. The cursor is opaque to
clients: base64 of the last item's ordering values. Keyset pages stay stable while new
rows arrive: nothing repeats and nothing is skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from tiktok.exceptions import ApplicationError


class InvalidCursorError(ApplicationError):
    code = "invalid_cursor"

    def __init__(self):
        super().__init__("The cursor is not valid.", fields={"cursor": ["Not a cursor from this API."]})


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([str(value) if not isinstance(value, (int, float)) else value for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursorError() from exc
    if not isinstance(values, list):
        raise InvalidCursorError()
    return values


def page_limit(raw: str | None, *, default: int | None = None, maximum: int | None = None) -> int:
    """Parse ``?limit=``: a whole number from 1 to the maximum."""
    default = default or settings.API_PAGE_SIZE_DEFAULT
    maximum = maximum or settings.API_PAGE_SIZE_MAX
    if raw in (None, ""):
        return default
    try:
        limit = int(raw)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= maximum:
        raise ApplicationError(
            f"limit must be a whole number from 1 to {maximum}.", fields={"limit": [f"1 to {maximum}."]}
        )
    return limit


@dataclass
class Page:
    items: list
    next_cursor: str | None


def keyset_page(
    queryset: QuerySet,
    *,
    cursor: str | None,
    limit: int,
    ordering: tuple[str, str] = ("created_at", "id"),
    descending: bool = True,
) -> Page:
    """One page of ``queryset`` ordered by two fields (a sort key and a unique tie-breaker)."""
    first, second = ordering
    model: type[Model] = queryset.model
    if cursor:
        values = decode_cursor(cursor)
        if len(values) != 2:
            raise InvalidCursorError()
        try:
            first_value = _field_for(model, first).to_python(values[0])
            second_value = _field_for(model, second).to_python(values[1])
        except (DjangoValidationError, TypeError, ValueError) as exc:
            raise InvalidCursorError() from exc
        op = "lt" if descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{first}__{op}": first_value}) | Q(**{first: first_value, f"{second}__{op}": second_value})
        )
    prefix = "-" if descending else ""
    rows = list(queryset.order_by(f"{prefix}{first}", f"{prefix}{second}")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_value_of(last, first), _value_of(last, second)])
    return Page(items=rows, next_cursor=next_cursor)


def _field_for(model: type[Model], path: str):
    field = None
    for part in path.split("__"):
        field = model._meta.get_field(part)
        if field.is_relation:
            model = field.related_model
    return field


def _value_of(obj: Model, path: str):
    value: Any = obj
    for part in path.split("__"):
        value = getattr(value, part)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
