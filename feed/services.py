"""Entry points other apps call when something changes that feeds must reflect.

Each enqueues the feed work after the surrounding transaction commits. Apps never touch
feed keys themselves: ``feed/store.py`` owns them.
"""

from __future__ import annotations

from django.db import transaction


def video_published(*, video_id) -> None:
    """A video became ready and visible: fan it out to followers' feeds."""
    from feed import tasks

    transaction.on_commit(lambda: tasks.fanout_video.delay(str(video_id)))


def video_withdrawn(*, video_id) -> None:
    """A video was deleted, hidden or removed: purge it from feeds in the background.

    Reads already drop it at once (feeds filter unpublished videos at read time).
    """
    from feed import tasks

    transaction.on_commit(lambda: tasks.purge_video.delay(str(video_id)))


def follow_created(*, follower_id: int, followee_id: int) -> None:
    """Merge the creator's recent videos into the follower's feed."""
    from feed import tasks

    transaction.on_commit(lambda: tasks.merge_creator_into_feed.delay(follower_id, followee_id))


def follow_removed(*, follower_id: int, followee_id: int) -> None:
    """Remove the creator's videos from the follower's feed."""
    from feed import tasks

    transaction.on_commit(lambda: tasks.remove_creator_from_feed.delay(follower_id, followee_id))
