"""The viewer's like/favorite/follow flags kept in the cache Redis, so a feed page reads them
in the same script call as its entries and cards (no SQL on a warm page).

One hash per user, ``VIEWER_FLAGS_KEY`` (a single key: LRU eviction takes all of it or
nothing, so a present hash is never a partial one). Fields:

``built``            present: the hash holds every like, favorite and follow of the user
``lease``            a rebuild in progress (its token)
``l:<feed id>``      the user likes the video (``Video.feed_id``: the feed's members)
``f:<feed id>``      the user favorited the video
``u:<user id>``      the user follows that creator

Correctness: a reader trusts the hash only when ``built`` is there; otherwise it reads
SQL (``activity.engagement.selectors.viewer_flags``) and rebuilds. Writes (``flags_record``) change
the field after their transaction commits, only in a built hash, and drop any ``lease``:
a rebuild that read the database before that commit then refuses to mark its hash built
(``REBUILD_FINISH`` checks its token), so a rebuild racing a write never leaves a wrong
flag behind. The only gap is a process dying between a commit and its Redis write: the
hash then stays stale until it expires (``FEED_INACTIVE_DAYS`` after its build) or is
evicted.
"""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django_redis import get_redis_connection

from activity.models import Favorite, Follow, Like
from tiktok import db_router
from tiktok.keys import VIEWER_FLAGS_KEY
from tiktok.redis_scripts import RedisScript, load_redis_script

logger = logging.getLogger(__name__)

LIKED, FAVORITED, FOLLOWING = "l:", "f:", "u:"
REBUILD_BATCH = 5000  # fields per HSET while rebuilding

# Lua scripts (``activity/scripts/*.lua``): each says which KEYS and ARGV it takes.
RECORD = load_redis_script("activity", "flags_record.lua")
REBUILD_START = load_redis_script("activity", "flags_rebuild_start.lua")
REBUILD_ADD = load_redis_script("activity", "flags_rebuild_add.lua")


def _client():
    return get_redis_connection("default")


def flags_key(user_id: int) -> str:
    return VIEWER_FLAGS_KEY.format(user_id=user_id)


def flags_ttl_seconds() -> int:
    return settings.FEED_INACTIVE_DAYS * 86400


def _run(script: RedisScript, *, keys: list[str], args: list) -> int:
    return int(script(_client(), keys=keys, args=args))


def flags_record(*, user_id: int, field: str, value: bool) -> None:
    """After the surrounding transaction commits: set or clear one flag of ``user_id``."""

    def write() -> None:
        try:
            _run(RECORD, keys=[flags_key(user_id)], args=[field, "1" if value else "0"])
        except Exception:  # noqa: BLE001 - then drop the hash: a reader rebuilds it from SQL
            logger.warning("could not record a flag of user %s; dropping their flags", user_id)
            try:
                _client().delete(flags_key(user_id))
            except Exception:  # noqa: BLE001 - cache Redis down: its restart empties it anyway
                logger.warning("could not drop the flags of user %s", user_id)

    transaction.on_commit(write, using=db_router.PRIMARY)


def flags_rebuild(*, user_id: int) -> bool:
    """Load every like, favorite and follow of ``user_id`` into their hash (from the
    primary: a replica may not have a write the user just made). False if a write
    raced the rebuild or the primary is down (the hash is then left unbuilt; the next
    read tries again)."""
    if not db_router.primary_available():
        # During a primary outage a replica may lack the user's newest writes: build no
        # hash from it (this page's flags come from SQL where everyone reads).
        return False
    token = secrets.token_hex(8)
    key = flags_key(user_id)
    _run(REBUILD_START, keys=[key], args=[token, 60])
    # primary: the rebuild must include a like made a moment ago (its flag write raced it)
    with db_router.use_primary():
        likes = Like.objects.filter(user_id=user_id).values_list("video__feed_id", flat=True)
        favorites = Favorite.objects.filter(user_id=user_id).values_list("video__feed_id", flat=True)
        fields = [LIKED + str(feed_id) for feed_id in likes]
        fields += [FAVORITED + str(feed_id) for feed_id in favorites]
        fields += [
            FOLLOWING + str(u) for u in Follow.objects.filter(follower_id=user_id).values_list("followee_id", flat=True)
        ]
    batches = [fields[start : start + REBUILD_BATCH] for start in range(0, len(fields), REBUILD_BATCH)] or [[]]
    for index, batch in enumerate(batches):
        last = "1" if index == len(batches) - 1 else "0"
        if not _run(REBUILD_ADD, keys=[key], args=[token, flags_ttl_seconds(), last, *batch]):
            return False
    return True


def _viewer_json(liked: bool, favorited: bool, following: bool) -> bytes:
    """The card's ``viewer`` member as JSON, keys in the order the API has always used."""
    values = tuple(b"true" if flag else b"false" for flag in (liked, favorited, following))
    return b'{"liked":%s,"favorited":%s,"following":%s}' % values


VIEWER_JSON = {
    f"{int(liked)}{int(favorited)}{int(following)}": _viewer_json(liked, favorited, following)
    for liked in (False, True)
    for favorited in (False, True)
    for following in (False, True)
}


def viewer_json(flags: dict) -> bytes:
    """``{"liked", "favorited", "following"}`` (``selectors.viewer_flags``) as JSON bytes."""
    return _viewer_json(flags["liked"], flags["favorited"], flags["following"])
