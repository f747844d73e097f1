"""Reads of blocks and mutes: who a viewer must not see, cached in the cache Redis.

``hidden_user_ids(viewer_id)`` is what every read path filters by: the users blocked
either way plus the users the viewer muted. ``blocked_user_ids`` is the block part alone
(follow lists and profiles: a mute hides videos and notifications, not people).

The set lives under ``HIDDEN_USERS_KEY`` with a ``built`` member; a miss is rebuilt from
the primary (a replica may lack the block just made) with "write only if absent", while
a block or mute change rewrites it after its commit (``relations_refresh``): a rebuild
that read the database before the change can then never overwrite the newer set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Exists, Q, QuerySet
from django_redis import get_redis_connection

from accounts.models import User
from accounts.selectors import user_get_by_username
from activity.models import Block, Mute
from tiktok import db_router
from tiktok.exceptions import NotFoundError
from tiktok.keys import HIDDEN_USERS_KEY
from tiktok.pagination import Page, keyset_page
from tiktok.redis_scripts import load_redis_script

logger = logging.getLogger(__name__)

BUILT = "built"
BLOCKED, MUTED = "b:", "m:"

# Writes the set if absent or always (``activity/scripts/hidden_users_write.lua``).
WRITE = load_redis_script("activity", "hidden_users_write.lua")


@dataclass(frozen=True)
class Hidden:
    blocked: frozenset[int]  # blocked by the viewer or blocking the viewer
    muted: frozenset[int]  # muted by the viewer

    @property
    def all(self) -> frozenset[int]:
        return self.blocked | self.muted


NOBODY = Hidden(blocked=frozenset(), muted=frozenset())


def _key(user_id: int) -> str:
    return HIDDEN_USERS_KEY.format(user_id=user_id)


MEMBERS_SQL = """
SELECT 'b:' || blocked_id FROM activity_block WHERE blocker_id = %(user)s
UNION SELECT 'b:' || blocker_id FROM activity_block WHERE blocked_id = %(user)s
UNION SELECT 'm:' || muted_id FROM activity_mute WHERE muter_id = %(user)s
"""


def _members_from_sql(user_id: int) -> tuple[list[str], bool]:
    """Every member of the set, in one query; and whether it came from the primary.

    The primary decides (a replica may lack a block made a moment ago); during a primary
    outage a replica answers rather than a 503, and what it says is not cached.
    """
    on_primary = db_router.primary_available()
    alias = db_router.PRIMARY if on_primary else db_router.choose_read_alias()
    with connections[alias].cursor() as cursor:
        cursor.execute(MEMBERS_SQL, {"user": user_id})
        return [BUILT] + sorted(row[0] for row in cursor.fetchall()), alias == db_router.PRIMARY


def _parse(members) -> Hidden:
    blocked, muted = set(), set()
    for raw in members:
        member = raw.decode() if isinstance(raw, bytes) else raw
        if member.startswith(BLOCKED):
            blocked.add(int(member[2:]))
        elif member.startswith(MUTED):
            muted.add(int(member[2:]))
    return Hidden(blocked=frozenset(blocked), muted=frozenset(muted))


def _write(user_id: int, members: list[str], *, overwrite: bool) -> None:
    client = get_redis_connection("default")
    ttl = settings.FEED_INACTIVE_DAYS * 86400
    WRITE(client, keys=[_key(user_id)], args=["1" if overwrite else "0", ttl, *members])


def hidden_users_key(user_id: int) -> str:
    """The cached set (``hidden_users``); it shares the user's hash tag with their feed keys,
    so the feed's page script can read it in the same call (then pass ``members``)."""
    return _key(user_id)


def hidden_users(*, viewer_id: int | None, members: list | None = None) -> Hidden:
    """Who ``viewer_id`` must not see: one SMEMBERS when cached (or ``members``, the set as
    a caller already read it), SQL on a miss or outage."""
    if viewer_id is None:
        return NOBODY
    if members is None:
        try:
            members = get_redis_connection("default").smembers(_key(viewer_id))
        except Exception:  # noqa: BLE001 - cache Redis down: the database answers
            logger.warning("hidden users of %s read from SQL: Redis unavailable", viewer_id)
            return _parse(_members_from_sql(viewer_id)[0])
    if members:
        return _parse(members)
    members, authoritative = _members_from_sql(viewer_id)
    if not authoritative:
        return _parse(members)
    try:
        _write(viewer_id, members, overwrite=False)
    except Exception:  # noqa: BLE001 - the next read tries again
        logger.warning("could not cache the hidden users of %s", viewer_id)
    return _parse(members)


def hidden_user_ids(*, viewer_id: int | None) -> frozenset[int]:
    """Blocked either way plus muted by the viewer."""
    return hidden_users(viewer_id=viewer_id).all


def blocked_user_ids(*, viewer_id: int | None) -> frozenset[int]:
    """Blocked by the viewer or blocking the viewer."""
    return hidden_users(viewer_id=viewer_id).blocked


def _viewer_id(viewer) -> int | None:
    return viewer.pk if viewer is not None and viewer.is_authenticated else None


def viewer_hidden_ids(viewer) -> frozenset[int]:
    return hidden_user_ids(viewer_id=_viewer_id(viewer))


def viewer_blocked_ids(viewer) -> frozenset[int]:
    return blocked_user_ids(viewer_id=_viewer_id(viewer))


def _blocks_between(user_id: int, other) -> QuerySet:
    return Block.objects.filter(Q(blocker_id=user_id, blocked_id=other) | Q(blocker_id=other, blocked_id=user_id))


def blocked_either_way(*, user_id: int, other) -> Exists:
    """Whether ``user_id`` and ``other`` (an id or an ``OuterRef``) blocked each other,
    either way, as an expression: for a write that checks it in its own statement."""
    return Exists(_blocks_between(user_id, other))


def blocked_between(*, user_id: int, other_id: int) -> bool:
    """Whether either user blocked the other."""
    # primary: writes and tasks decide on it (a block made a moment ago)
    with db_router.use_primary():
        return _blocks_between(user_id, other_id).exists()


def has_blocked(*, blocker_id: int, blocked_id: int) -> bool:
    # primary: writes decide on it (a block made a moment ago)
    with db_router.use_primary():
        return Block.objects.filter(blocker_id=blocker_id, blocked_id=blocked_id).exists()


def user_get_visible(*, username: str, viewer) -> User:
    """The user by name, or ``NotFoundError`` if they blocked the viewer or are suspended.

    A suspended user's profile, lists and videos are gone for everyone but staff, as if
    the account did not exist (the moderators' tools still show it).
    """
    user = user_get_by_username(username=username)
    viewer_id = _viewer_id(viewer)
    if user.suspended_at is not None and not (viewer_id is not None and viewer.is_staff):
        raise NotFoundError("No such user.")
    if viewer_id is not None and viewer_id != user.pk and user.pk in blocked_user_ids(viewer_id=viewer_id):
        if has_blocked(blocker_id=user.pk, blocked_id=viewer_id):
            raise NotFoundError("No such user.")
    return user


def relations_refresh(*, user_ids: list[int]) -> None:
    """After the surrounding transaction commits: rewrite these users' hidden sets."""

    def refresh() -> None:
        for user_id in user_ids:
            try:
                members, authoritative = _members_from_sql(user_id)
                if not authoritative:
                    raise RuntimeError("the primary is down")  # dropped below: rebuilt later
                _write(user_id, members, overwrite=True)
            except Exception:  # noqa: BLE001 - then drop it: the next read rebuilds it
                logger.warning("could not rewrite the hidden users of %s", user_id)
                try:
                    get_redis_connection("default").delete(_key(user_id))
                except Exception:  # noqa: BLE001 - cache Redis down: its restart empties it
                    logger.warning("could not drop the hidden users of %s", user_id)

    transaction.on_commit(refresh, using=db_router.PRIMARY)


# --- Lists of the viewer's own blocks and mutes -----------------------------------------


def blocks_page(*, user, cursor: str | None, limit: int) -> Page:
    page = keyset_page(Block.objects.filter(blocker=user).select_related("blocked"), cursor=cursor, limit=limit)
    page.items = [_relation_user(row.blocked, row.created_at) for row in page.items]
    return page


def mutes_page(*, user, cursor: str | None, limit: int) -> Page:
    page = keyset_page(Mute.objects.filter(muter=user).select_related("muted"), cursor=cursor, limit=limit)
    page.items = [_relation_user(row.muted, row.created_at) for row in page.items]
    return page


def _relation_user(user: User, since) -> dict:
    return {"username": user.username, "display_name": user.display_name, "since": since}
