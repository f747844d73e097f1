"""What the feeds do when videos and follows change (``tiktok.events``): each event's
handler is a ``feed.tasks`` task run after the publishing transaction commits."""

from activity.graph.events import FollowCreated, FollowRemoved, MuteCreated, MuteRemoved
from feed import tasks
from tiktok.events import subscribe
from videos.events import VideoPublished, VideoWithdrawn


def connect() -> None:
    subscribe(VideoPublished, tasks.fanout_video)
    subscribe(VideoWithdrawn, tasks.purge_video)
    subscribe(FollowCreated, tasks.merge_creator_into_feed)
    subscribe(MuteRemoved, tasks.merge_creator_into_feed)  # re-checks that the muter still follows
    subscribe(FollowRemoved, tasks.remove_creator_from_feed)
    subscribe(MuteCreated, tasks.remove_creator_from_feed)
