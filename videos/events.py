"""Facts about videos that other apps act on (``tiktok.events``)."""

from dataclasses import dataclass

from tiktok.events import Event


@dataclass(frozen=True)
class VideoPublished(Event):
    """A video became ready and visible (feeds fan it out, its caption's mentions are told)."""

    video_id: str


@dataclass(frozen=True)
class VideoWithdrawn(Event):
    """A published video was deleted, hidden or removed. A deleted video's row is gone by
    the time handlers run: ``feed_id`` is its feed member id."""

    video_id: str
    owner_id: int | None
    feed_id: int | None


@dataclass(frozen=True)
class VideoCaptionChanged(Event):
    """A video's caption was edited (the users it now mentions hear of it)."""

    video_id: str
