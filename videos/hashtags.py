"""Hashtags: parsed from captions, stored normalised, counted, and listed.

A hashtag is ``#`` followed by Unicode letters (with their combining marks), digits and
underscores, not preceded by a word character (``a#b`` and ``x.com/#top`` are not
hashtags). Names are stored NFKC-normalised and case-folded, so ``#Café``, ``#CAFÉ`` and
``#ｃａｆé`` are one tag. A caption carries at most ``HASHTAG_MAX_PER_CAPTION`` distinct
tags of at most ``HASHTAG_MAX_LENGTH`` characters; more is a 400.

``video_hashtags_set`` is called by the caption writes in ``videos.services`` (inside
their transaction). ``Hashtag.video_count`` counts *public* videos: the tags of a video
that enters or leaves the public set (processing, caption edit, moderation, suspension,
deletion) are recounted exactly after that commit (``hashtag_counts_refresh``), and
``hashtag_counts_recount`` (beat, every ``HASHTAG_RECOUNT_SECONDS``) repairs any drift.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

import regex
from django.conf import settings
from django.db import connection, connections, transaction

from tiktok import db_router
from tiktok.exceptions import ApplicationError, NotFoundError
from videos.models import Hashtag, Video, VideoHashtag

# Letters, combining marks (Devanagari vowel signs, Arabic harakat...), digits, underscore.
TAG_CHARACTERS = r"[\p{L}\p{M}\p{N}_]"
HASHTAG_PATTERN = regex.compile(rf"(?<!{TAG_CHARACTERS}|[#&/]){'#'}({TAG_CHARACTERS}+)")
# The name part of a tag given on its own (a URL segment or a search query).
TAG_NAME_PATTERN = regex.compile(rf"{TAG_CHARACTERS}+")


def normalise(name: str) -> str:
    """The stored form of a tag name: NFKC, case-folded, NFKC again (folding may decompose)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def _meaningful(name: str) -> bool:
    return any(char != "_" for char in name)


def parse_hashtags(caption: str) -> list[str]:
    """Distinct normalised hashtags of ``caption`` in order of appearance.

    Raises ``ApplicationError`` (400, field ``caption``) for more than
    ``HASHTAG_MAX_PER_CAPTION`` tags or a tag longer than ``HASHTAG_MAX_LENGTH``.
    """
    text = unicodedata.normalize("NFKC", caption or "")
    names: dict[str, None] = {}
    for match in HASHTAG_PATTERN.finditer(text):
        name = normalise(match.group(1))
        if not _meaningful(name):
            continue
        if len(name) > settings.HASHTAG_MAX_LENGTH:
            raise ApplicationError(
                f"Hashtags are at most {settings.HASHTAG_MAX_LENGTH} characters.",
                code="hashtag_too_long",
                fields={"caption": [f"#{name[:20]}... is longer than {settings.HASHTAG_MAX_LENGTH} characters."]},
            )
        names[name] = None
    if len(names) > settings.HASHTAG_MAX_PER_CAPTION:
        raise ApplicationError(
            f"A caption may have at most {settings.HASHTAG_MAX_PER_CAPTION} hashtags.",
            code="too_many_hashtags",
            fields={"caption": [f"At most {settings.HASHTAG_MAX_PER_CAPTION} hashtags; found {len(names)}."]},
        )
    return list(names)


def tag_name_from_input(raw: str | None) -> str | None:
    """A tag name typed by a person (``#Cats``, ``cats``) in stored form, or None if it is not one."""
    text = normalise((raw or "").strip()).lstrip("#")
    if not text or len(text) > settings.HASHTAG_MAX_LENGTH or not TAG_NAME_PATTERN.fullmatch(text):
        return None
    return text if _meaningful(text) else None


def video_hashtags_set(*, video: Video) -> list[str]:
    """Make the video's hashtags those of its caption (inside the caller's transaction)."""
    names = parse_hashtags(video.caption)
    with transaction.atomic():
        if names:
            Hashtag.objects.bulk_create([Hashtag(name=name) for name in names], ignore_conflicts=True)
        tag_ids = dict(Hashtag.objects.filter(name__in=names).values_list("name", "id")) if names else {}
        VideoHashtag.objects.filter(video=video).exclude(hashtag_id__in=tag_ids.values()).delete()
        VideoHashtag.objects.bulk_create(
            [VideoHashtag(video=video, hashtag_id=tag_id) for tag_id in tag_ids.values()], ignore_conflicts=True
        )
    return names


def hashtag_get(*, name: str) -> Hashtag:
    """The hashtag called ``name`` (as typed: ``#Cats`` or ``cats``), or ``NotFoundError``."""
    normalised = tag_name_from_input(name)
    hashtag = Hashtag.objects.filter(name=normalised).first() if normalised else None
    if hashtag is None:
        raise NotFoundError("No such hashtag.")
    return hashtag


# --- Counts -----------------------------------------------------------------------------

PUBLIC_COUNTS_SQL = """
SELECT link.hashtag_id, count(*)
FROM videos_videohashtag link
JOIN videos_video video ON video.id = link.video_id
JOIN accounts_user owner ON owner.id = video.owner_id
WHERE video.status = 'ready' AND video.moderation = 'visible' AND video.published_at IS NOT NULL
  AND owner.suspended_at IS NULL
GROUP BY link.hashtag_id
"""

UPDATE_COUNTS_SQL = """
UPDATE videos_hashtag SET video_count = counted.video_count
FROM unnest(%s::bigint[], %s::integer[]) AS counted(id, video_count)
WHERE videos_hashtag.id = counted.id AND videos_hashtag.video_count <> counted.video_count
"""

RECOUNT_BATCH_SIZE = 5000

# The exact count of the given tags, as PUBLIC_COUNTS_SQL counts them, for tags still
# under HASHTAG_EXACT_COUNT_LIMIT: a new or small tag moves at once; a huge tag's count
# (one publish among hundreds of thousands) is left to the periodic recount.
REFRESH_COUNTS_SQL = """
UPDATE videos_hashtag tag SET video_count = (
    SELECT count(*)
    FROM videos_videohashtag link
    JOIN videos_video video ON video.id = link.video_id
    JOIN accounts_user owner ON owner.id = video.owner_id
    WHERE link.hashtag_id = tag.id
      AND video.status = 'ready' AND video.moderation = 'visible' AND video.published_at IS NOT NULL
      AND owner.suspended_at IS NULL
)
WHERE tag.id = ANY(%s) AND tag.video_count < %s
"""


def hashtag_counts_refresh(*, video_ids: Iterable) -> None:
    """After the surrounding transaction commits, recount the tags ``video_ids`` carry now.

    Called wherever a video may enter or leave the public set (publish, caption edit,
    moderation, suspension, deletion: every caller of ``video_cards_invalidate``), so a
    creator who posts ``#newtag`` finds it, counted, as soon as the video is public. The
    tags are read now, while the links exist (a deletion drops them).
    """
    # primary: the links change a moment later (a deletion drops them): read them as they are
    with db_router.use_primary():
        tag_ids = sorted(
            set(VideoHashtag.objects.filter(video_id__in=list(video_ids)).values_list("hashtag_id", flat=True))
        )
    if not tag_ids:
        return

    def refresh() -> None:
        with connections[db_router.PRIMARY].cursor() as cursor:
            cursor.execute(REFRESH_COUNTS_SQL, [tag_ids, settings.HASHTAG_EXACT_COUNT_LIMIT])

    transaction.on_commit(refresh, using=db_router.PRIMARY)


def hashtag_counts_recount() -> int:
    """Set every ``Hashtag.video_count`` to its number of public videos; returns rows changed.

    The aggregate reads a replica at the position the caller depends on; only changed
    rows are written, in batches.
    """
    with connections[db_router.choose_read_alias()].cursor() as cursor:
        cursor.execute(PUBLIC_COUNTS_SQL)
        counted = dict(cursor.fetchall())
        cursor.execute("SELECT id, video_count FROM videos_hashtag WHERE video_count > 0")
        stored = dict(cursor.fetchall())
    changes = [(tag_id, total) for tag_id, total in counted.items() if stored.get(tag_id) != total]
    changes += [(tag_id, 0) for tag_id in stored if tag_id not in counted]
    changed = 0
    for start in range(0, len(changes), RECOUNT_BATCH_SIZE):
        batch = changes[start : start + RECOUNT_BATCH_SIZE]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(UPDATE_COUNTS_SQL, [[tag_id for tag_id, _ in batch], [total for _, total in batch]])
            changed += cursor.rowcount
    return changed
