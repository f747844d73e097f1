"""A video pushed past the AV1 view threshold (the AV1 tests)."""

from __future__ import annotations

from activity.engagement.counters import counter_flush
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.videos import upload
from videos import av1
from videos.models import Video


def view_by(count: int, video_id: str, capture) -> None:
    """``count`` viewers watch the video (their counter deltas wait in Redis for a flush)."""
    for _ in range(count):
        with capture(execute=True):
            response = client_for(UserFactory()).post(
                f"/api/v1/videos/{video_id}/view", {"watched_ms": 900}, format="json"
            )
        assert response.status_code == 202 and response.json()["recorded"] is True, response.content


def popular_video(client, path, complete, capture, settings) -> Video:
    """A ready video pushed from below the threshold to it by viewers, then flushed."""
    settings.AV1_VIEW_THRESHOLD = 3
    video_id = upload(client, path)
    complete(client, video_id)
    view_by(2, video_id, capture)
    with capture(execute=True):
        counter_flush()
    assert not any(av1.is_av1(item) for item in Video.objects.get(pk=video_id).renditions)  # 2 views: not yet
    view_by(1, video_id, capture)
    with capture(execute=True):
        counter_flush()
    return Video.objects.get(pk=video_id)
