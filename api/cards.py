"""Video cards as endpoints answer them: the card (``videos.selectors``) with the viewer's
like/favorite/follow flags, without the videos of creators hidden from the viewer
(``activity.engagement.selectors.with_viewer_state``, ``activity.visibility.relations``).

Composed here, one layer above both: the videos layer hands out each card with its
creator's id and knows nothing of flags or blocks. The feed's pages compose theirs the
same way (``activity.engagement.selectors.video_cards``).
"""

from __future__ import annotations

from collections.abc import Iterable

from activity.engagement.selectors import video_cards, with_viewer_state
from activity.visibility import relations
from tiktok.exceptions import NotFoundError
from videos import selectors as video_selectors

__all__ = ["video_card", "video_cards", "video_cards_for_videos"]


def video_card(*, video_id, viewer) -> dict:
    """One card the viewer may see, with their flags, or ``NotFoundError`` (also when the
    viewer and the creator blocked each other, either way)."""
    owned = video_selectors.owned_card(video_id=video_id, viewer=viewer)
    cards = with_viewer_state([owned], viewer=viewer, hidden=relations.viewer_blocked_ids(viewer))
    if not cards:
        raise NotFoundError("No such video.")
    return cards[0]


def video_cards_for_videos(*, videos: Iterable, viewer) -> list[dict]:
    """Cards for loaded videos, with the viewer's flags, without those of users hidden from
    the viewer (blocked, muted, or blocking them)."""
    owned = video_selectors.owned_cards_for_videos(videos=videos, viewer=viewer)
    return with_viewer_state(owned, viewer=viewer, hidden=relations.viewer_hidden_ids(viewer))
