"""Denormalised counters (likes, favorites, comments, views, followers, following).

This module owns the Redis keys of pending counter deltas and is the only code that
writes the ``*_count`` columns of videos and users.

Why: a like storm on one video must not serialise on that video's row. A request
never updates the counted row; after its transaction commits it adds its delta to a
Redis hash in the durable (noeviction) Redis with ``HINCRBY``. ``counter_flush()``
(beat, every ``COUNTER_FLUSH_SECONDS``) applies the pending deltas with one set-based
``UPDATE`` per table, clamped at zero. ``counter_recount()`` (beat, hourly) recomputes
exact counts from the relation tables and repairs any drift: the relation rows are
the source of truth, the columns a cache of them.

Flush protocol, per entity (video, user):

1. take: a Lua script renames ``pending`` to ``processing`` atomically, unless a
   ``processing`` hash is left over from a crashed flush, which is then taken again;
2. apply: one transaction runs the ``UPDATE ... FROM (VALUES ...)`` of every delta;
3. after the commit, ``processing`` is deleted.

A crash before 3 leaves ``processing`` in Redis: the next flush applies it (nothing
is lost). Only a crash in the instant between the commit and the delete applies a
batch twice; the recount repairs that. Flushes and recounts hold one PostgreSQL
advisory lock (session level, released by the server if the worker dies), so two
flushes never take or apply the same batch.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connections, transaction
from django_redis import get_redis_connection

from tiktok.db_router import PRIMARY
from tiktok.keys import COUNTER_PENDING_KEY, COUNTER_PROCESSING_KEY
from tiktok.locks import AdvisoryLock, advisory_lock
from tiktok.redis_scripts import load_redis_script
from videos import av1

logger = logging.getLogger(__name__)


# Rows per UPDATE statement when applying deltas and per batch when recounting.
COUNTER_FLUSH_BATCH_SIZE = 1000
COUNTER_RECOUNT_BATCH_SIZE = 5000


@dataclass(frozen=True)
class CounterTable:
    """The counted columns of one entity's table."""

    entity: str
    table: str
    id_cast: str
    columns: dict[str, str]  # counter name -> column


VIDEO = CounterTable(
    entity="video",
    table="videos_video",
    id_cast="uuid",
    columns={
        "likes": "likes_count",
        "favorites": "favorites_count",
        "comments": "comments_count",
        "views": "views_count",
    },
)
USER = CounterTable(
    entity="user",
    table="accounts_user",
    id_cast="bigint",
    columns={"followers": "followers_count", "following": "following_count"},
)
TABLES = {table.entity: table for table in (VIDEO, USER)}

# Takes the batch to apply (``activity/scripts/counters_take.lua``).
_TAKE_SCRIPT = load_redis_script("activity", "counters_take.lua")


def _redis():
    return get_redis_connection("durable")


# --- Request path ---------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    entity: str
    object_id: object
    counter: str
    delta: int


def counter_add(*, entity: str, object_id, counter: str, delta: int) -> None:
    """Add ``delta`` to a counter once the current transaction commits (``counters_add``)."""
    counters_add([Delta(entity=entity, object_id=object_id, counter=counter, delta=delta)])


def counters_add(deltas: list[Delta]) -> None:
    """Add several deltas once the current transaction commits, in one Redis round trip
    (a follow moves two users' counters).

    Never raises: if the durable Redis is unreachable the deltas are lost and logged, and
    the next recount restores the exact counts from the relation rows.
    """
    for delta in deltas:
        if delta.counter not in TABLES[delta.entity].columns:
            raise ValueError(f"unknown counter {delta.entity}.{delta.counter}")

    def apply() -> None:
        try:
            pipe = _redis().pipeline(transaction=False)
            for delta in deltas:
                pipe.hincrby(
                    COUNTER_PENDING_KEY.format(entity=delta.entity), f"{delta.object_id}:{delta.counter}", delta.delta
                )
            pipe.execute()
        except Exception:  # noqa: BLE001 - the relation row is the truth; recount repairs
            logger.warning("counter deltas %s lost: Redis unavailable", deltas, exc_info=True)

    transaction.on_commit(apply)


def pending_deltas(*, entity: str, object_ids: Iterable) -> dict[str, dict[str, int]]:
    """Deltas not yet flushed, ``{object_id: {counter: delta}}`` (for tests and tools)."""
    wanted = {str(object_id) for object_id in object_ids}
    result: dict[str, dict[str, int]] = defaultdict(dict)
    raw = _redis().hgetall(COUNTER_PENDING_KEY.format(entity=entity))
    for field, value in raw.items():
        object_id, _, counter = field.decode().rpartition(":")
        if object_id in wanted:
            result[object_id][counter] = int(value)
    return dict(result)


# --- Flush ----------------------------------------------------------------------------


def _parse_batch(table: CounterTable, flat: list) -> dict[str, dict[str, int]]:
    """Flat HGETALL reply -> ``{object_id: {column: delta}}``, dropping malformed fields."""
    deltas: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(table.columns.values(), 0))
    for index in range(0, len(flat), 2):
        field = flat[index].decode() if isinstance(flat[index], bytes) else str(flat[index])
        object_id, _, counter = field.rpartition(":")
        column = table.columns.get(counter)
        if column is None or not _valid_id(table, object_id):
            logger.error("dropping malformed counter field %r of %s", field, table.entity)
            continue
        deltas[object_id][column] += int(flat[index + 1])
    return {object_id: row for object_id, row in deltas.items() if any(row.values())}


def _valid_id(table: CounterTable, object_id: str) -> bool:
    try:
        if table.id_cast == "uuid":
            uuid.UUID(object_id)
        else:
            int(object_id)
    except ValueError:
        return False
    return True


def _apply(table: CounterTable, deltas: dict[str, dict[str, int]]) -> None:
    """One ``UPDATE ... FROM (VALUES ...)`` per batch of rows; counts never go below zero."""
    columns = list(table.columns.values())
    assignments = ", ".join(f"{column} = GREATEST(t.{column} + d.{column}, 0)" for column in columns)
    row_sql = "(" + ", ".join([f"%s::{table.id_cast}"] + ["%s::bigint"] * len(columns)) + ")"
    items = sorted(deltas.items())  # a stable order keeps concurrent row locks from deadlocking
    with connections[PRIMARY].cursor() as cursor:
        for start in range(0, len(items), COUNTER_FLUSH_BATCH_SIZE):
            chunk = items[start : start + COUNTER_FLUSH_BATCH_SIZE]
            params: list = []
            for object_id, row in chunk:
                params.append(object_id)
                params.extend(row[column] for column in columns)
            sql = (
                f"UPDATE {table.table} AS t SET {assignments} "  # noqa: S608 - identifiers are constants
                f"FROM (VALUES {', '.join([row_sql] * len(chunk))}) AS d(id, {', '.join(columns)}) "
                "WHERE t.id = d.id"
            )
            cursor.execute(sql, params)


def counter_flush() -> dict[str, int]:
    """Apply every pending delta; returns the number of rows touched per entity.

    Returns ``{}`` without doing anything when another flush or recount holds the lock.
    """
    applied: dict[str, int] = {}
    changed_videos: set[str] = set()
    views_added: dict[str, int] = defaultdict(int)
    with advisory_lock(AdvisoryLock.COUNTERS) as acquired:
        if not acquired:
            logger.info("counter flush skipped: another flush or recount is running")
            return applied
        client = _redis()
        for table in TABLES.values():
            pending = COUNTER_PENDING_KEY.format(entity=table.entity)
            processing = COUNTER_PROCESSING_KEY.format(entity=table.entity)
            # A left-over batch is applied first, then the fresh one: at most two rounds.
            for _round in range(2):
                deltas = _parse_batch(table, _TAKE_SCRIPT(client, keys=[pending, processing]))
                if deltas:
                    with transaction.atomic(using=PRIMARY):
                        _apply(table, deltas)
                # Committed (or nothing to apply): the batch must not be applied again.
                client.delete(processing)
                applied[table.entity] = applied.get(table.entity, 0) + len(deltas)
                if table is VIDEO:
                    changed_videos.update(deltas)
                    for video_id, row in deltas.items():
                        views_added[video_id] += row["views_count"]
                if not client.exists(pending):
                    break
    _invalidate_video_cards(changed_videos)
    _views_counted(views_added)
    return applied


def _views_counted(views_added: dict[str, int]) -> None:
    """Views are known here: a video that just became popular gets its AV1 ladder."""
    try:
        av1.av1_views_counted(views_added=views_added)
    except Exception:  # noqa: BLE001 - the counts are committed; this video keeps H.264 only
        logger.warning("could not enqueue AV1 encodes after a counter flush", exc_info=True)


def _invalidate_video_cards(video_ids: Iterable[str]) -> None:
    """Cached cards show counts: drop the stale ones (when the videos app caches cards)."""
    ids = list(video_ids)
    if not ids:
        return
    from videos import selectors as video_selectors

    invalidate = getattr(video_selectors, "video_cards_invalidate", None)
    if invalidate is None:
        return
    try:
        invalidate(ids)
    except Exception:  # noqa: BLE001 - stale counts for a few minutes are acceptable
        logger.warning("could not invalidate %s video cards", len(ids), exc_info=True)


# --- Recount --------------------------------------------------------------------------

_VIDEO_RECOUNT_SQL = """
WITH batch AS (SELECT unnest(%(ids)s::uuid[]) AS id),
likes AS (
    SELECT video_id, count(*) AS n FROM activity_like
    WHERE video_id IN (SELECT id FROM batch) GROUP BY video_id
),
favorites AS (
    SELECT video_id, count(*) AS n FROM activity_favorite
    WHERE video_id IN (SELECT id FROM batch) GROUP BY video_id
),
comments AS (
    SELECT video_id, count(*) AS n FROM activity_comment
    WHERE video_id IN (SELECT id FROM batch) AND state = 'visible' GROUP BY video_id
),
views AS (
    SELECT video_id, count(*) AS n FROM activity_view
    WHERE video_id IN (SELECT id FROM batch) GROUP BY video_id
),
exact AS (
    SELECT batch.id,
        COALESCE(likes.n, 0) AS likes_count,
        COALESCE(favorites.n, 0) AS favorites_count,
        COALESCE(comments.n, 0) AS comments_count,
        COALESCE(views.n, 0) AS views_count
    FROM batch
    LEFT JOIN likes ON likes.video_id = batch.id
    LEFT JOIN favorites ON favorites.video_id = batch.id
    LEFT JOIN comments ON comments.video_id = batch.id
    LEFT JOIN views ON views.video_id = batch.id
)
UPDATE videos_video AS t SET
    likes_count = exact.likes_count,
    favorites_count = exact.favorites_count,
    comments_count = exact.comments_count,
    views_count = exact.views_count
FROM exact
WHERE t.id = exact.id AND (
    t.likes_count <> exact.likes_count OR t.favorites_count <> exact.favorites_count
    OR t.comments_count <> exact.comments_count OR t.views_count <> exact.views_count
)
RETURNING t.id
"""

_USER_RECOUNT_SQL = """
WITH batch AS (SELECT unnest(%(ids)s::bigint[]) AS id),
followers AS (
    SELECT followee_id AS user_id, count(*) AS n FROM activity_follow
    WHERE followee_id IN (SELECT id FROM batch) GROUP BY followee_id
),
following AS (
    SELECT follower_id AS user_id, count(*) AS n FROM activity_follow
    WHERE follower_id IN (SELECT id FROM batch) GROUP BY follower_id
),
exact AS (
    SELECT batch.id,
        COALESCE(followers.n, 0) AS followers_count,
        COALESCE(following.n, 0) AS following_count
    FROM batch
    LEFT JOIN followers ON followers.user_id = batch.id
    LEFT JOIN following ON following.user_id = batch.id
)
UPDATE accounts_user AS t SET
    followers_count = exact.followers_count,
    following_count = exact.following_count
FROM exact
WHERE t.id = exact.id AND (
    t.followers_count <> exact.followers_count OR t.following_count <> exact.following_count
)
RETURNING t.id
"""


def _recount_table(table_name: str, sql: str, *, id_is_uuid: bool) -> list:
    """Recount one table in keyset batches of ids; returns the ids that were corrected."""
    corrected: list = []
    last = None
    with connections[PRIMARY].cursor() as cursor:
        while True:
            if last is None:
                cursor.execute(
                    f"SELECT id FROM {table_name} ORDER BY id LIMIT %s",  # noqa: S608 - constant identifier
                    [COUNTER_RECOUNT_BATCH_SIZE],
                )
            else:
                cursor.execute(
                    f"SELECT id FROM {table_name} WHERE id > %s ORDER BY id LIMIT %s",  # noqa: S608
                    [last, COUNTER_RECOUNT_BATCH_SIZE],
                )
            ids = [row[0] for row in cursor.fetchall()]
            if not ids:
                return corrected
            last = ids[-1]
            with transaction.atomic(using=PRIMARY):
                cursor.execute(sql, {"ids": [str(i) for i in ids] if id_is_uuid else ids})
                corrected.extend(row[0] for row in cursor.fetchall())


def counter_recount() -> dict[str, int]:
    """Set every counter to the exact count of its relation rows; returns rows corrected.

    Pending deltas are flushed first. Changes that commit while a batch is recounted can
    be counted twice (in the recount and in a later delta) until the next recount.
    """
    counter_flush()
    with advisory_lock(AdvisoryLock.COUNTERS) as acquired:
        if not acquired:
            logger.info("counter recount skipped: a flush or another recount is running")
            return {}
        videos = _recount_table(VIDEO.table, _VIDEO_RECOUNT_SQL, id_is_uuid=True)
        users = _recount_table(USER.table, _USER_RECOUNT_SQL, id_is_uuid=False)
    if videos or users:
        logger.info("counter recount corrected %s videos and %s users", len(videos), len(users))
    _invalidate_video_cards(str(video_id) for video_id in videos)
    return {"video": len(videos), "user": len(users)}
