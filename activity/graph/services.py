"""Writes of the social graph: follows, blocks and mutes.

A follow moves the followers counters and the viewer's "following" flag
(``activity.engagement``), notifies the followee and publishes ``FollowCreated`` for the
feed; a block removes the follows both ways and each other's notifications. Every
relation write is idempotent (``activity.writes``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import OuterRef

from accounts.models import User
from activity.engagement.counters import Delta, counters_add
from activity.engagement.flags import FOLLOWING, flags_record
from activity.graph.events import FollowCreated, FollowRemoved, MuteCreated, MuteRemoved
from activity.models import Block, Follow, Mute
from activity.notifications import services as notifications
from activity.visibility import relations
from activity.writes import delete_to_target, insert_ignoring_conflict, insert_to_target
from tiktok.db_router import PRIMARY
from tiktok.events import event_tasks, publish
from tiktok.exceptions import ApplicationError, NotFoundError

# --- Follows --------------------------------------------------------------------------


def follow_create(*, follower: User, followee: User) -> bool:
    """``follower`` follows ``followee``; True if this was a change (not a repeat)."""
    if follower.pk == followee.pk:
        raise ApplicationError("You cannot follow yourself.", code="cannot_follow_self")
    if followee.suspended_at is not None or not followee.is_active:
        raise NotFoundError("No such user.")
    target = (
        User.objects.filter(pk=followee.pk, is_active=True, suspended_at__isnull=True)
        .filter(~relations.blocked_either_way(user_id=follower.pk, other=OuterRef("pk")))
        .values("id")
    )
    tasks = [
        *event_tasks(FollowCreated(follower_id=follower.pk, followee_id=followee.pk)),
        notifications.notification_task(notifications.FOLLOW_EVENT, follower.pk, followee.pk),
    ]
    # One statement, no transaction block: the counters and the flag follow its commit.
    inserted = insert_to_target(Follow, target=target, target_field="followee", tasks=tasks, follower_id=follower.pk)
    if inserted is None:
        if relations.has_blocked(blocker_id=follower.pk, blocked_id=followee.pk):
            raise ApplicationError("You blocked this user; unblock them first.", code="user_blocked")
        raise NotFoundError("No such user.")  # they blocked the follower (or left meanwhile)
    if inserted.changed:
        _follow_counters(follower=follower, followee=followee, delta=1)
        flags_record(user_id=follower.pk, field=FOLLOWING + str(followee.pk), value=True)
    return inserted.changed


def _follow_counters(*, follower: User, followee: User, delta: int) -> None:
    counters_add(
        [
            Delta(entity="user", object_id=followee.pk, counter="followers", delta=delta),
            Delta(entity="user", object_id=follower.pk, counter="following", delta=delta),
        ]
    )


def follow_delete(*, follower: User, followee: User) -> bool:
    """``follower`` stops following ``followee``; True if there was a follow to remove."""
    tasks = [
        *event_tasks(FollowRemoved(follower_id=follower.pk, followee_id=followee.pk)),
        notifications.notification_task(notifications.FOLLOW_EVENT, follower.pk, followee.pk),
    ]
    target = User.objects.filter(pk=followee.pk).values("id")
    deleted = delete_to_target(Follow, target=target, target_field="followee", tasks=tasks, follower_id=follower.pk)
    if deleted is None or not deleted.changed:  # None: the followee's account (and its follows) is gone
        return False
    _follow_counters(follower=follower, followee=followee, delta=-1)
    flags_record(user_id=follower.pk, field=FOLLOWING + str(followee.pk), value=False)
    return True


# --- Blocks and mutes -------------------------------------------------------------------
# Reads and the cached "hidden users" set live in ``activity.visibility.relations``.


def _not_self(actor: User, other: User, verb: str) -> None:
    if actor.pk == other.pk:
        raise ApplicationError(f"You cannot {verb} yourself.", code=f"cannot_{verb}_self")


def block_create(*, blocker: User, blocked: User) -> bool:
    """Block: removes the follows both ways and each other's notifications; True if new.

    ``follow_delete`` takes each side's videos out of the other's feed (after commit).
    """
    _not_self(blocker, blocked, "block")
    with transaction.atomic(using=PRIMARY):
        created = insert_ignoring_conflict(Block, blocker_id=blocker.pk, blocked_id=blocked.pk)
        if created:
            follow_delete(follower=blocker, followee=blocked)
            follow_delete(follower=blocked, followee=blocker)
            notifications.notifications_withdraw_between(recipient_id=blocker.pk, actor_id=blocked.pk)
            notifications.notifications_withdraw_between(recipient_id=blocked.pk, actor_id=blocker.pk)
            relations.relations_refresh(user_ids=[blocker.pk, blocked.pk])
    return created


def block_delete(*, blocker: User, blocked: User) -> bool:
    """Unblock (follows are not restored); True if there was a block."""
    _not_self(blocker, blocked, "block")
    with transaction.atomic(using=PRIMARY):
        deleted, _ = Block.objects.filter(blocker_id=blocker.pk, blocked_id=blocked.pk).delete()
        if deleted:
            relations.relations_refresh(user_ids=[blocker.pk, blocked.pk])
    return bool(deleted)


def mute_create(*, muter: User, muted: User) -> bool:
    """Mute: the muted user's videos leave the muter's feed and their notifications the
    muter's inbox; the muted user notices nothing. True if new."""
    _not_self(muter, muted, "mute")
    with transaction.atomic(using=PRIMARY):
        created = insert_ignoring_conflict(Mute, muter_id=muter.pk, muted_id=muted.pk)
        if created:
            notifications.notifications_withdraw_between(recipient_id=muter.pk, actor_id=muted.pk)
            relations.relations_refresh(user_ids=[muter.pk])
            # The feed's handler re-checks: it removes a creator the follower no longer
            # follows or has muted (``feed.services.follow_unmerge``).
            publish(MuteCreated(muter_id=muter.pk, muted_id=muted.pk))
    return created


def mute_delete(*, muter: User, muted: User) -> bool:
    """Unmute: a followed creator's recent videos come back into the feed. True if muted."""
    _not_self(muter, muted, "mute")
    with transaction.atomic(using=PRIMARY):
        deleted, _ = Mute.objects.filter(muter_id=muter.pk, muted_id=muted.pk).delete()
        if deleted:
            relations.relations_refresh(user_ids=[muter.pk])
            publish(MuteRemoved(muter_id=muter.pk, muted_id=muted.pk))
    return bool(deleted)
