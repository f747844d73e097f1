"""Reads for videos, including the one video card every endpoint returns.

Contract used by other apps (keep these signatures):
- ``owned_cards(video_ids=..., viewer=...)`` -> ``OwnedCard``s in the given order,
  public ones only (plus the viewer's own videos in any state): each card with its
  creator's id, so the layers above can add the viewer's like/favorite/follow flags and
  drop creators hidden from the viewer (``activity.engagement.selectors.with_viewer_state``).
  ``video_cards`` gives the cards alone (``viewer`` null).
- ``video_get_public(video_id=...)`` -> a ready, visible video or ``NotFoundError``.
- ``video_cards_invalidate(video_ids)`` -> drop cached cards after a change that shows
  on them (counters flushed, moderation, caption, processing state).

The viewer-independent part of a card (``card_base``) is cached in ``caches["default"]``
under ``VIDEO_CARD_KEY`` for ``VIDEO_CARD_CACHE_SECONDS``; a cache outage only costs a
database query.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django_redis import get_redis_connection

from accounts.models import User
from tiktok import db_router, media_urls
from tiktok.exceptions import NotFoundError
from tiktok.keys import VIDEO_CARD_JSON_KEY, VIDEO_CARD_KEY
from tiktok.media_storage import stored_url
from tiktok.pagination import Page, keyset_page
from videos.hashtags import hashtag_counts_refresh
from videos.models import Moderation, Video, VideoStatus

logger = logging.getLogger(__name__)


def _parse_ids(video_ids: Iterable) -> list[uuid.UUID]:
    parsed = []
    for value in video_ids:
        try:
            parsed.append(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed


def parse_video_id(video_id) -> uuid.UUID:
    """A video id from a URL; anything malformed is simply not found."""
    ids = _parse_ids([video_id])
    if not ids:
        raise NotFoundError("No such video.")
    return ids[0]


def video_get_public(*, video_id) -> Video:
    ids = _parse_ids([video_id])
    video = Video.objects.public().filter(id__in=ids).select_related("owner").first()
    if video is None:
        raise NotFoundError("No such video.")
    return video


PLAYBACK_MASTER_PATH = "/api/v1/videos/{video_id}/playback/master.m3u8"


def hls_url(*, video_id, master_key: str) -> str | None:
    """The master playlist a player opens: on the CDN with a token for the video's prefix
    (relative children inherit it), else the API's playlist endpoint (``videos.playback``),
    which presigns every child."""
    if not master_key:
        return None
    if media_urls.cdn_enabled():
        return media_urls.cdn_url(master_key)
    return settings.API_PUBLIC_BASE_URL.rstrip("/") + PLAYBACK_MASTER_PATH.format(video_id=video_id)


def card_base(video: Video) -> dict:
    """The viewer-independent part of a card (cacheable)."""
    return {
        "id": str(video.id),
        "feed_id": video.feed_id,
        "owner_id": video.owner_id,
        "status": video.status,
        "moderation": video.moderation,
        "caption": video.caption,
        "creator": {
            "username": video.owner.username,
            "display_name": video.owner.display_name,
            "avatar_key": video.owner.avatar.name,
        },
        "creator_suspended": video.owner.suspended_at is not None,
        "hls_master_key": video.hls_master_key,
        "poster_key": video.poster.name,
        "duration": video.duration,
        "width": video.width,
        "height": video.height,
        "published_at": video.published_at.isoformat() if video.published_at else None,
        "counts": {
            "likes": video.likes_count,
            "favorites": video.favorites_count,
            "comments": video.comments_count,
            "views": video.views_count,
        },
        "failure_reason": video.failure_reason,
    }


def _is_public(base: dict) -> bool:
    return (
        base["status"] == VideoStatus.READY
        and base["moderation"] == Moderation.VISIBLE
        and not base["creator_suspended"]
    )


def _card_cache():
    return caches["default"]


# Invalidation leaves this marker instead of deleting: while it lives, readers do not
# cache what they read (a lagging replica may still return the old row). It outlives the
# replica lag the router accepts, and fills never overwrite an existing key.
CARD_TOMBSTONE = "invalidated"


def _tombstone_seconds() -> int:
    return int(math.ceil(settings.DATABASE_REPLICA_MAX_LAG_SECONDS)) + 2


def _cache_bases(bases: list[dict]) -> None:
    # Only ready videos are cached: their state changes rarely and every change
    # invalidates. Unfinished ones are read by their owner alone and change often.
    cacheable = [base for base in bases if base["status"] == VideoStatus.READY]
    if not cacheable:
        return
    cache = _card_cache()
    try:
        for base in cacheable:
            cache.add(VIDEO_CARD_KEY.format(video_id=base["id"]), base, timeout=settings.VIDEO_CARD_CACHE_SECONDS)
        _cache_card_json(cacheable)
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        logger.warning("video card cache unavailable; cards not cached")


# --- the card as JSON bytes (read by the feed's page script) -----------------------------
# ``VIDEO_CARD_JSON_KEY`` holds ``b"<owner id> " + JSON of the card without "viewer"`` for
# a public video, ``CARD_JSON_NOT_PUBLIC`` for a ready one only its owner may see. Filled
# and tombstoned beside ``VIDEO_CARD_KEY``; written raw (no pickling, no key prefix) so
# Lua can read it. It carries playback URLs, whose tokens expire: it is kept at most half
# their lifetime.
CARD_JSON_NOT_PUBLIC = b"-"


@dataclass(frozen=True)
class CardJson:
    owner_id: int
    body: bytes  # the card's JSON object without "viewer"

    def video_id(self) -> str:
        """The public id in the card (a page needing SQL flags maps by it)."""
        return orjson.loads(self.body)["id"]

    def with_viewer(self, viewer: bytes) -> bytes:
        """The card a client receives: ``viewer`` (JSON) spliced in as its last member."""
        return self.body[:-1] + b',"viewer":' + viewer + b"}"


def card_json_key_template() -> str:
    """``VIDEO_CARD_JSON_KEY`` with ``<id>`` for the feed id (for the feed's page script)."""
    return VIDEO_CARD_JSON_KEY.format(feed_id="<id>")


def card_json_key(feed_id: int) -> str:
    return VIDEO_CARD_JSON_KEY.format(feed_id=feed_id)


def video_ids_by_feed_id(feed_ids: Iterable[int]) -> dict[int, str]:
    """Public ids of the videos with these feed ids (feeds hold feed ids; the API shows UUIDs)."""
    rows = Video.objects.filter(feed_id__in=list(feed_ids)).values_list("feed_id", "id")
    return {feed_id: str(video_id) for feed_id, video_id in rows}


def feed_ids_by_video_id(video_ids: Iterable) -> dict[str, int]:
    """Feed ids of the videos with these public ids."""
    rows = Video.objects.filter(id__in=_parse_ids(video_ids)).values_list("id", "feed_id")
    return {str(video_id): feed_id for video_id, feed_id in rows}


def card_json_parse(value: bytes | None) -> CardJson | bytes | None:
    """A cached value: the card, ``CARD_JSON_NOT_PUBLIC``, or None (not cached, or invalidated)."""
    if not value:
        return None
    if value == CARD_JSON_NOT_PUBLIC:
        return CARD_JSON_NOT_PUBLIC
    owner, _, body = value.partition(b" ")
    if not owner.isdigit() or not body.startswith(b"{"):
        return None  # e.g. the tombstone
    return CardJson(owner_id=int(owner), body=body)


def _card_json_seconds() -> int:
    return max(min(settings.VIDEO_CARD_CACHE_SECONDS, settings.VIDEO_PLAYBACK_URL_EXPIRY_SECONDS // 2), 1)


def _cache_card_json(bases: list[dict]) -> None:
    pipe = get_redis_connection("default").pipeline(transaction=False)
    for base in bases:
        if _is_public(base):
            card = _card_from_base(base, viewer_id=None, flags={})
            del card["viewer"]
            value = b"%d " % base["owner_id"] + orjson.dumps(card)
        else:
            value = CARD_JSON_NOT_PUBLIC
        pipe.set(card_json_key(base["feed_id"]), value, nx=True, ex=_card_json_seconds())
    pipe.execute()


def _cached_bases(ids: list[uuid.UUID]) -> dict[uuid.UUID, dict]:
    keys = {VIDEO_CARD_KEY.format(video_id=video_id): video_id for video_id in ids}
    try:
        found = _card_cache().get_many(list(keys))
    except Exception:  # noqa: BLE001 - the cache is an optimisation
        logger.warning("video card cache unavailable; reading cards from the database")
        return {}
    return {keys[key]: base for key, base in found.items() if isinstance(base, dict)}


def video_cards_invalidate(video_ids: Iterable) -> None:
    """Forget cached cards of ``video_ids``, now and again after the transaction commits.

    Called by every write that changes what a card shows: processing, caption,
    moderation, deletion, and the activity app's counter flush. See ``CARD_TOMBSTONE``.
    """
    ids = _parse_ids(video_ids)
    keys = [VIDEO_CARD_KEY.format(video_id=video_id) for video_id in ids]
    if not keys:
        return
    hashtag_counts_refresh(video_ids=ids)  # what a card shows changed: maybe whether it is public
    # primary: read now, while the row exists; a replica may not have a new video yet
    with db_router.use_primary():
        feed_ids = list(Video.objects.filter(id__in=ids).values_list("feed_id", flat=True))

    def forget() -> None:
        try:
            _card_cache().set_many(dict.fromkeys(keys, CARD_TOMBSTONE), timeout=_tombstone_seconds())
            pipe = get_redis_connection("default").pipeline(transaction=False)
            for feed_id in feed_ids:
                pipe.set(card_json_key(feed_id), CARD_TOMBSTONE, ex=_tombstone_seconds())
            pipe.execute()
        except Exception:  # noqa: BLE001 - entries expire after VIDEO_CARD_CACHE_SECONDS anyway
            logger.warning("could not invalidate %s cached video cards", len(keys))

    forget()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(forget)


@dataclass(frozen=True)
class OwnedCard:
    """A card (``viewer`` still null) and its creator's id, which the card does not show."""

    owner_id: int
    card: dict


def _owned_cards(bases: list[dict], viewer) -> list[OwnedCard]:
    viewer_id = viewer.pk if viewer is not None and viewer.is_authenticated else None
    return [
        OwnedCard(owner_id=base["owner_id"], card=_card_from_base(base, viewer_id=viewer_id, flags={}))
        for base in bases
        if _is_public(base) or base["owner_id"] == viewer_id
    ]


def _card_from_base(base: dict, *, viewer_id: int | None, flags: dict) -> dict:
    card = {key: value for key, value in base.items() if key not in {"feed_id", "owner_id", "creator_suspended"}}
    card["counts"] = dict(base["counts"])
    # Playback URLs only for public videos: a takedown stops issuing them at once.
    public = _is_public(base)
    master_key, poster_key = card.pop("hls_master_key"), card.pop("poster_key")  # never in an answer
    card["hls_url"] = hls_url(video_id=base["id"], master_key=master_key) if public else None
    card["poster_url"] = stored_url(Video.poster.field, poster_key) if public else None
    creator = dict(base["creator"])
    creator["avatar_url"] = stored_url(User.avatar.field, creator.pop("avatar_key", ""))
    card["creator"] = creator
    card["viewer"] = flags.get(base["id"]) if viewer_id is not None else None
    if base["owner_id"] != viewer_id:
        card.pop("failure_reason")
    return card


def owned_cards(*, video_ids: Iterable, viewer=None) -> list[OwnedCard]:
    """Cards for ``video_ids`` in order; non-public ones only for their owner.

    One cache ``get_many`` and one query for the misses.
    """
    ids = _parse_ids(video_ids)
    if not ids:
        return []
    bases = _cached_bases(ids)
    missing = [video_id for video_id in ids if video_id not in bases]
    if missing:
        fetched = [card_base(video) for video in Video.objects.filter(id__in=missing).select_related("owner")]
        _cache_bases(fetched)
        bases.update({uuid.UUID(base["id"]): base for base in fetched})
    return _owned_cards([bases[video_id] for video_id in ids if video_id in bases], viewer)


def owned_cards_for_videos(*, videos: Iterable[Video], viewer=None) -> list[OwnedCard]:
    """Cards for videos already loaded (with ``owner``): no further video query."""
    bases = [card_base(video) for video in videos]
    _cache_bases(bases)
    return _owned_cards(bases, viewer)


def owned_card(*, video_id, viewer=None) -> OwnedCard:
    """One card the viewer may see, or ``NotFoundError``."""
    cards = owned_cards(video_ids=[parse_video_id(video_id)], viewer=viewer)
    if not cards:
        raise NotFoundError("No such video.")
    return cards[0]


def video_cards(*, video_ids: Iterable, viewer=None) -> list[dict]:
    """The cards of ``owned_cards`` without the viewer's state."""
    return [owned.card for owned in owned_cards(video_ids=video_ids, viewer=viewer)]


def video_list_public_for_user(*, username: str, cursor: str | None, limit: int) -> Page:
    """A creator's public videos, newest published first."""
    from accounts.selectors import user_get_by_username

    owner = user_get_by_username(username=username)
    if owner.suspended_at is not None:
        return Page(items=[], next_cursor=None)
    queryset = Video.objects.public().filter(owner=owner)
    page = keyset_page(queryset.select_related("owner"), cursor=cursor, limit=limit, ordering=("published_at", "id"))
    return page


def video_list_for_owner(*, owner, cursor: str | None, limit: int) -> Page:
    """All of the owner's videos in every state, newest created first."""
    queryset = Video.objects.filter(owner_id=owner.pk).select_related("owner")
    return keyset_page(queryset, cursor=cursor, limit=limit, ordering=("created_at", "id"))
