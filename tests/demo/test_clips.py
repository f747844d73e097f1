"""The demo clip helper uploads a real clip the way a client does."""

import pytest

from demo.clips import create_demo_video
from tests.helpers.videos import bucket_keys
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db


def test_create_demo_video_uploads_and_processes_a_real_clip(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        video_id = create_demo_video(owner=user, caption="demo", seconds=1, pattern="smptebars")
    video = Video.objects.get(id=video_id)
    assert (video.status, video.caption, video.width, video.height) == (VideoStatus.READY, "demo", 640, 360)
    assert bucket_keys(video.hls_master_key) == [video.hls_master_key]
