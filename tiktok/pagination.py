"""Keyset (cursor) pagination shared by every list endpoint.

A page is ``{"items": [...], "next_cursor": "..." | null}``. The cursor is opaque to
clients: the last item's ordering values, signed (``tiktok.cursors``) and bounded when
read back, so a tampered cursor is a 400, never a query with a forged value. Keyset
pages stay stable while new rows arrive: nothing repeats and nothing is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet

from tiktok import cursors
from tiktok.cursors import InvalidCursorError
from tiktok.exceptions import ApplicationError


def encode_cursor(values: list[Any]) -> str:
    """A signed cursor holding a keyset position (numbers stay numbers, the rest text)."""
    return cursors.sign({"p": [value if isinstance(value, int) else str(value) for value in values]})


def decode_cursor(cursor: str) -> list[Any]:
    """The position in a cursor from ``encode_cursor``, or ``InvalidCursorError``."""
    values = cursors.unsign(cursor).get("p")
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
        first_value = _bounded(_field_for(model, first), values[0])
        second_value = _bounded(_field_for(model, second), values[1])
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


def _bounded(field, raw: Any) -> Any:
    """A cursor value as ``field``'s Python value, within what the column can hold."""
    if isinstance(raw, bool) or not isinstance(raw, (int, str)):
        raise InvalidCursorError()
    try:
        value = field.to_python(raw)
    except (DjangoValidationError, TypeError, ValueError, OverflowError) as exc:
        raise InvalidCursorError() from exc
    if isinstance(value, int):
        return cursors.bounded_int(raw)  # written as a JSON number: a string is forged
    if not isinstance(raw, str) or len(raw) > 255:
        raise InvalidCursorError()  # times, UUIDs and text are written as strings
    if isinstance(value, datetime):
        return cursors.bounded_time(value)
    return value


def _value_of(obj: Model, path: str):
    value: Any = obj
    for part in path.split("__"):
        value = getattr(value, part)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
