"""What notifications follow changes to videos (``tiktok.events``)."""

from activity.notifications import tasks
from tiktok.events import subscribe
from videos.events import VideoCaptionChanged, VideoPublished


def connect() -> None:
    # Users a public video's caption mentions hear of it.
    subscribe(VideoPublished, tasks.notification_sync_caption)
    subscribe(VideoCaptionChanged, tasks.notification_sync_caption)
