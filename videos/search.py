"""Video and hashtag search, and the videos of one hashtag; all read a replica.

- Videos: PostgreSQL full text over captions (``videos_video.search_vector``, a stored
  generated ``to_tsvector('simple', caption)`` with a GIN index, added by migration
  ``0003_search_indexes``; hashtags are caption words, so ``cats`` finds ``#cats``). Every word
  of the query must match, the last one as a prefix (people type) once it has three letters. The newest
  ``SEARCH_VIDEO_CANDIDATES`` public matches are ranked by ``ts_rank_cd``, then likes,
  then recency: a common word costs the same as a rare one.
- Hashtags: name prefix (``varchar_pattern_ops`` index), most used first; only tags with
  public videos.
- A hashtag's videos: newest published first (keyset), or ``top`` by engagement (likes,
  favorites and comments; offset pages, bounded by the caller).

Only public videos (``public_video_q``: ready, visible, published, creator not
suspended) are ever returned. Callers turn ids into cards with the viewer's flags.
"""

from __future__ import annotations

import regex
from django.conf import settings
from django.db import connections
from django.db.models import F

from tiktok import db_router
from tiktok.pagination import Page, keyset_page
from videos.hashtags import normalise
from videos.models import Hashtag, Video

WORD_PATTERN = regex.compile(r"[\p{L}\p{M}\p{N}]+")
MAX_QUERY_WORDS = 8
MIN_PREFIX_LENGTH = 3

VIDEO_SEARCH_SQL = """
WITH matched AS MATERIALIZED (
    -- Materialised so the planner reads the GIN index (cost: the matches) instead of
    -- walking every video newest first hoping to meet matches (cost: the catalogue).
    SELECT id, owner_id, published_at, likes_count, search_vector, status, moderation
    FROM videos_video
    WHERE search_vector @@ to_tsquery('simple'::regconfig, %(query)s)
),
candidates AS (
    SELECT matched.* FROM matched
    JOIN accounts_user owner ON owner.id = matched.owner_id
    WHERE matched.status = 'ready' AND matched.moderation = 'visible' AND matched.published_at IS NOT NULL
      AND owner.suspended_at IS NULL
    ORDER BY matched.published_at DESC
    LIMIT %(candidates)s
)
SELECT id FROM candidates
ORDER BY ts_rank_cd(search_vector, to_tsquery('simple'::regconfig, %(query)s)) DESC,
         likes_count DESC, published_at DESC, id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


def _tsquery(query: str) -> str | None:
    """``'word' & 'last':*`` from the query's words, quoted (nothing else reaches to_tsquery)."""
    words = [normalise(word) for word in WORD_PATTERN.findall(query)][:MAX_QUERY_WORDS]
    if not words:
        return None
    quoted = ["'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in words]
    # A prefix of one or two letters would match most of the catalogue.
    if len(words[-1]) >= MIN_PREFIX_LENGTH:
        quoted[-1] += ":*"
    return " & ".join(quoted)


def video_search_ids(*, query: str, offset: int, limit: int) -> list[str]:
    """Ids of public videos whose caption matches ``query``, best first."""
    tsquery = _tsquery(query)
    if tsquery is None:
        return []
    params = {
        "query": tsquery,
        "candidates": settings.SEARCH_VIDEO_CANDIDATES,
        "limit": limit,
        "offset": offset,
    }
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        cursor.execute(VIDEO_SEARCH_SQL, params)
        return [str(row[0]) for row in cursor.fetchall()]


def hashtag_search(*, query: str, offset: int, limit: int) -> list[Hashtag]:
    """Hashtags with public videos whose name starts with ``query`` (``#`` optional)."""
    prefix = normalise(query.strip()).lstrip("#")
    if not prefix:
        return []
    return list(
        Hashtag.objects.filter(name__startswith=prefix, video_count__gt=0).order_by("-video_count", "name")[
            offset : offset + limit
        ]
    )


HASHTAG_SORTS = ("newest", "top")


def hashtag_videos_newest(*, hashtag: Hashtag, cursor: str | None, limit: int) -> Page:
    """A page of the tag's public videos (with owners), newest published first."""
    queryset = Video.objects.public().filter(hashtag_links__hashtag=hashtag).select_related("owner")
    return keyset_page(queryset, cursor=cursor, limit=limit, ordering=("published_at", "id"))


def hashtag_videos_top(*, hashtag: Hashtag, offset: int, limit: int) -> list[Video]:
    """The tag's public videos (with owners) by engagement, then newest."""
    engagement = F("likes_count") + F("favorites_count") + F("comments_count")
    return list(
        Video.objects.public()
        .filter(hashtag_links__hashtag=hashtag)
        .select_related("owner")
        .alias(engagement=engagement)
        .order_by("-engagement", "-published_at", "-id")[offset : offset + limit]
    )
