"""Page parameters shared by the list endpoints: keyset pages (``cursor`` and ``limit``)
and the offset pages of ranked results (search, top hashtag videos), whose cursor is signed
(``tiktok.cursors``), names the list and the query it belongs to, and stops at
``SEARCH_MAX_OFFSET``."""

from __future__ import annotations

import hashlib

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter

from tiktok import cursors
from tiktok.pagination import page_limit

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="next_cursor of the previous page."),
    OpenApiParameter("limit", int, description="Items per page (default 10, at most 50)."),
]


def page_arguments(request) -> dict:
    """``cursor`` and ``limit`` of a keyset page, from the query string."""
    return {
        "cursor": request.query_params.get("cursor") or None,
        "limit": page_limit(request.query_params.get("limit")),
    }


def _list_id(kind: str, query: str) -> str:
    return f"{kind}:{hashlib.blake2b(query.encode(), digest_size=6).hexdigest()}"


def offset_from_cursor(raw: str | None, *, kind: str, query: str) -> int:
    """The offset a cursor of this list (kind and query) points at; 0 without a cursor."""
    if not raw:
        return 0
    payload = cursors.unsign(raw)
    if payload.get("l") != _list_id(kind, query):
        raise cursors.InvalidCursorError()
    return cursors.bounded_int(payload.get("o"), low=1, high=settings.SEARCH_MAX_OFFSET)


def offset_page(rows: list, *, offset: int, limit: int, kind: str, query: str) -> tuple[list, str | None]:
    """``rows`` were read with ``limit + 1``: the page and the cursor of the next one."""
    more = len(rows) > limit
    following = offset + limit
    if not more or following > settings.SEARCH_MAX_OFFSET:
        return rows[:limit], None
    return rows[:limit], cursors.sign({"l": _list_id(kind, query), "o": following})
