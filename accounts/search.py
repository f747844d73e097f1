"""User search: username and display-name prefixes, with trigram typo tolerance.

Runs on a replica (``db_router.choose_read_alias``). Indexes (``videos`` migration
``0003_search_indexes``): ``lower(username) text_pattern_ops`` for prefixes, GIN
``gin_trgm_ops`` on ``lower(username)`` and ``lower(display_name)`` for word prefixes
and similarity. Suspended and deactivated users never match.

Order: the exact username, then prefix matches (username, or any word of the display
name), then typo matches by trigram word similarity; ties by followers, then id.
"""

from __future__ import annotations

from django.db import connections

from tiktok import db_router

USER_SEARCH_SQL = """
SELECT id, username, display_name, followers_count FROM (
    SELECT id, username, display_name, followers_count,
           lower(username) = %(q)s AS exact,
           (lower(username) LIKE %(prefix)s OR lower(display_name) LIKE %(prefix)s
            OR lower(display_name) LIKE %(word_prefix)s) AS prefix_match,
           greatest(word_similarity(%(q)s, lower(username)), word_similarity(%(q)s, lower(display_name))) AS close
    FROM accounts_user
    WHERE is_active AND suspended_at IS NULL
      AND (lower(username) LIKE %(prefix)s
           OR lower(display_name) LIKE %(prefix)s
           OR lower(display_name) LIKE %(word_prefix)s
           OR %(q)s <%% lower(username)
           OR %(q)s <%% lower(display_name))
) AS found
ORDER BY exact DESC, prefix_match DESC, close DESC, followers_count DESC, id
LIMIT %(limit)s OFFSET %(offset)s
"""


# ``q <% column`` matches when the best-matching part of the column shares this share of
# trigrams with ``q`` (pg_trgm's default, 0.6, misses one wrong letter in an 8-letter name).
TYPO_THRESHOLD = 0.4


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def user_search(*, query: str, offset: int, limit: int) -> list[dict]:
    """Active, unsuspended users matching ``query`` (already validated), best first.

    Each: ``{"id", "username", "display_name", "followers_count"}``; one query.
    """
    q = query.strip().lower()
    escaped = _like_escape(q)
    params = {
        "q": q,
        "prefix": f"{escaped}%",
        "word_prefix": f"% {escaped}%",
        "limit": limit,
        "offset": offset,
    }
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        # Session setting: only the ``<%`` operator reads it, and only search uses that.
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TYPO_THRESHOLD)])
        cursor.execute(USER_SEARCH_SQL, params)
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
