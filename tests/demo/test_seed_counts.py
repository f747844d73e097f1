"""The demo's likes and comments are counted like any others."""

from unittest import mock

import pytest
from django.core.management import call_command

from activity.engagement.counters import counter_flush
from activity.models import Comment, Like
from tests.factories import VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db


def fake_demo_video(*, owner, caption, pattern, **kwargs):
    return str(VideoFactory(owner=owner, caption=caption).id)


def test_demo_likes_and_comments_show_in_the_counts_after_one_flush_and_a_rerun_adds_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        mock.patch("demo.clips.create_demo_video", side_effect=fake_demo_video),
        django_capture_on_commit_callbacks(execute=True),
    ):
        call_command("seed_demo", stdout=mock.Mock())
        call_command("seed_demo", stdout=mock.Mock())
    counter_flush()
    liked = Video.objects.get(caption="Kickflip practice #skate")
    assert Like.objects.filter(video=liked).count() == 3
    assert liked.likes_count == 3
    for video in Video.objects.filter(comments__isnull=False).distinct():
        assert video.comments_count == Comment.objects.filter(video=video).count() > 0
