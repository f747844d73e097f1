"""Reads for activity: follow graph, viewer flags."""

from collections.abc import Iterable

from activity.models import Follow


def following_ids(*, follower, user_ids: Iterable[int]) -> set[int]:
    """Which of ``user_ids`` the ``follower`` follows, in one query."""
    ids = list(user_ids)
    if not ids or follower is None or not follower.is_authenticated:
        return set()
    return set(Follow.objects.filter(follower=follower, followee_id__in=ids).values_list("followee_id", flat=True))



def viewer_flags(*, viewer, video_owner_ids: dict[str, int]) -> dict[str, dict]:
    """``{video_id: {"liked", "favorited", "following"}}`` for one viewer, three queries in all.

    ``video_owner_ids`` maps each video id (str) to its creator's user id.
    """
    from activity.models import Favorite, Like

    ids = list(video_owner_ids)
    if not ids or viewer is None or not viewer.is_authenticated:
        return {}
    liked = {str(v) for v in Like.objects.filter(user=viewer, video_id__in=ids).values_list("video_id", flat=True)}
    favorited = {
        str(v) for v in Favorite.objects.filter(user=viewer, video_id__in=ids).values_list("video_id", flat=True)
    }
    following = following_ids(follower=viewer, user_ids=set(video_owner_ids.values()))
    return {
        video_id: {
            "liked": video_id in liked,
            "favorited": video_id in favorited,
            "following": owner_id in following,
        }
        for video_id, owner_id in video_owner_ids.items()
    }
