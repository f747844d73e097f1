"""Facts about relations between users that other apps act on (``tiktok.events``)."""

from dataclasses import dataclass

from tiktok.events import Event


@dataclass(frozen=True)
class FollowCreated(Event):
    """A user followed a creator: the creator's recent videos join the follower's feed."""

    follower_id: int
    followee_id: int


@dataclass(frozen=True)
class FollowRemoved(Event):
    """A user unfollowed a creator: the creator's videos leave the follower's feed."""

    follower_id: int
    followee_id: int


@dataclass(frozen=True)
class MuteCreated(Event):
    """The muted user's videos leave the muter's feed."""

    muter_id: int
    muted_id: int


@dataclass(frozen=True)
class MuteRemoved(Event):
    """A followed creator's recent videos come back into the muter's feed."""

    muter_id: int
    muted_id: int
