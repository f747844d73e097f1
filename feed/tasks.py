"""Feed tasks (placeholder names the other apps enqueue; implemented by the feed issue)."""

from celery import shared_task


@shared_task(name="feed.tasks.fanout_video")
def fanout_video(video_id: str) -> None:
    return None


@shared_task(name="feed.tasks.purge_video")
def purge_video(video_id: str) -> None:
    return None


@shared_task(name="feed.tasks.merge_creator_into_feed")
def merge_creator_into_feed(follower_id: int, followee_id: int) -> None:
    return None


@shared_task(name="feed.tasks.remove_creator_from_feed")
def remove_creator_from_feed(follower_id: int, followee_id: int) -> None:
    return None
