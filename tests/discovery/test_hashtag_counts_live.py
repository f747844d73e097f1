"""A tag's count and its place in search move with the videos' public state, at once."""

import pytest

from moderation.services import user_reinstate, user_suspend, video_moderate
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.discovery import tagged_video
from videos.models import Hashtag

pytestmark = pytest.mark.django_db


def count(tag: str) -> int:
    hashtag = Hashtag.objects.filter(name=tag).first()
    return hashtag.video_count if hashtag else 0


def found(client, tag: str) -> bool:
    response = client.get("/api/v1/search", {"q": f"#{tag[:4]}", "type": "hashtags"})
    assert response.status_code == 200
    return tag in [item["tag"] for item in response.json()["items"]]


def test_a_new_tag_is_counted_and_found_as_soon_as_its_video_is_public(django_capture_on_commit_callbacks):
    creator, viewer = UserFactory(), UserFactory()
    client, other = client_for(creator), client_for(viewer)
    video = tagged_video(creator, "lunch")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v1/videos/{video.id}", {"caption": "lunch #catchefu"}, format="json")
    assert response.status_code == 200
    assert count("catchefu") == 1
    assert found(other, "catchefu")
    assert other.get("/api/v1/hashtags/catchefu").json()["video_count"] == 1


def test_hiding_suspending_and_deleting_take_the_count_down_and_restoring_brings_it_back(
    django_capture_on_commit_callbacks,
):
    creator, moderator = UserFactory(), UserFactory(is_staff=True)
    viewer = client_for(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        first = tagged_video(creator, "one #sunrisecat")
        tagged_video(creator, "two #sunrisecat")
        client_for(creator).patch(f"/api/v1/videos/{first.id}", {"caption": "one #sunrisecat!"}, format="json")
    assert count("sunrisecat") == 2

    with django_capture_on_commit_callbacks(execute=True):
        video_moderate(video=first, moderation="hidden", actor=moderator, reason="check")
    assert count("sunrisecat") == 1
    with django_capture_on_commit_callbacks(execute=True):
        video_moderate(video=first, moderation="visible", actor=moderator, reason="fine")
    assert count("sunrisecat") == 2

    with django_capture_on_commit_callbacks(execute=True):
        user_suspend(user=creator, actor=moderator, reason="spam")
    assert count("sunrisecat") == 0
    assert not found(viewer, "sunrisecat")
    with django_capture_on_commit_callbacks(execute=True):
        user_reinstate(user=creator, actor=moderator, reason="appeal")
    assert count("sunrisecat") == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(creator).delete(f"/api/v1/videos/{first.id}").status_code == 204
    assert count("sunrisecat") == 1
