"""Hashtags: parsed from captions at create and edit, counted, and listed by tag."""

import pytest
from django.utils import timezone

from activity.models import Like
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.discovery import recount, tagged_video
from tiktok.exceptions import ApplicationError
from videos.hashtags import parse_hashtags
from videos.models import Hashtag, Video, VideoHashtag

pytestmark = pytest.mark.django_db


def tags_of(video) -> set[str]:
    return set(VideoHashtag.objects.filter(video=video).values_list("hashtag__name", flat=True))


@pytest.mark.parametrize(
    ("caption", "expected"),
    [
        ("#Cats and #cats and #CATS", ["cats"]),
        ("Crème #Brûlée #ＣＡＦÉ", ["brûlée", "café"]),  # NFKC folds full-width letters
        ("#Straße", ["strasse"]),  # case folding, not lower-casing
        ("#नमस्ते दुनिया", ["नमस्ते"]),  # combining vowel signs stay inside the tag
        ("#東京 #2024 #cat_videos", ["東京", "2024", "cat_videos"]),
        ("a#b x.com/#top &#123; ## #_ #", []),  # not tags: inside words, URLs, entities, empty
        ("#one,#two.#three!", ["one", "two", "three"]),
    ],
)
def test_hashtags_are_parsed_normalised_and_deduplicated(caption, expected):
    assert parse_hashtags(caption) == expected


def test_more_than_twenty_hashtags_or_a_huge_one_is_refused():
    assert len(parse_hashtags(" ".join(f"#t{n}" for n in range(20)) + " #t0")) == 20
    with pytest.raises(ApplicationError) as error:
        parse_hashtags(" ".join(f"#t{n}" for n in range(21)))
    assert error.value.code == "too_many_hashtags"
    with pytest.raises(ApplicationError) as error:
        parse_hashtags("#" + "a" * 101)
    assert error.value.code == "hashtag_too_long"


def create_upload(client, caption: str):
    return client.post(
        "/api/v1/videos", {"caption": caption, "content_type": "video/mp4", "size_bytes": 1000}, format="json"
    )


def test_upload_and_caption_edit_store_the_hashtags(auth_client):
    response = create_upload(auth_client, "Morning #Skate session #SKATE #sunrise")
    assert response.status_code == 201, response.content
    video = Video.objects.get(id=response.json()["id"])
    assert tags_of(video) == {"skate", "sunrise"}

    response = auth_client.patch(f"/api/v1/videos/{video.id}", {"caption": "now #sunset #skate"}, format="json")
    assert response.status_code == 200, response.content
    assert tags_of(video) == {"sunset", "skate"}

    auth_client.patch(f"/api/v1/videos/{video.id}", {"caption": "no tags"}, format="json")
    assert tags_of(video) == set()


def test_a_caption_with_21_hashtags_is_a_400_and_nothing_is_created(auth_client, user):
    response = create_upload(auth_client, " ".join(f"#tag{n}" for n in range(21)))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_hashtags"
    assert "caption" in response.json()["error"]["fields"]
    assert not Video.objects.filter(owner=user).exists()
    assert not Hashtag.objects.exists()


def test_hashtag_detail_counts_only_public_videos(api_client):
    creator, suspended = UserFactory(), UserFactory(suspended_at=timezone.now())
    tagged_video(creator, "#cats one")
    tagged_video(creator, "#Cats two")
    tagged_video(creator, "#cats hidden", moderation="hidden")
    tagged_video(creator, "#cats removed", moderation="removed")
    tagged_video(creator, "#cats processing", status="processing", published_at=None)
    tagged_video(suspended, "#cats by a suspended creator")
    recount()

    for spelling in ("cats", "CATS", "%23Cats"):
        response = api_client.get(f"/api/v1/hashtags/{spelling}")
        assert response.status_code == 200, spelling
        assert response.json() == {"tag": "cats", "video_count": 2}


def test_the_count_follows_moderation_after_a_recount(api_client):
    video = tagged_video(UserFactory(), "#dogs")
    recount()
    assert api_client.get("/api/v1/hashtags/dogs").json()["video_count"] == 1
    Video.objects.filter(pk=video.pk).update(moderation="hidden")
    recount()
    assert api_client.get("/api/v1/hashtags/dogs").json()["video_count"] == 0


@pytest.mark.parametrize("tag", ["nosuchtag", "bad%20tag", "%21%21"])
def test_unknown_or_malformed_hashtags_are_404_in_the_error_shape(api_client, tag):
    tagged_video(UserFactory(), "#known")
    response = api_client.get(f"/api/v1/hashtags/{tag}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert api_client.get(f"/api/v1/hashtags/{tag}/videos").status_code == 404


def test_hashtag_videos_are_public_newest_first_in_stable_pages(api_client):
    creator, suspended = UserFactory(), UserFactory(suspended_at=timezone.now())
    newest_first = [tagged_video(creator, f"#cats number {n}", age_minutes=n) for n in range(5)]
    tagged_video(creator, "#cats hidden", moderation="hidden")
    tagged_video(creator, "#cats failed", status="failed")
    tagged_video(suspended, "#cats suspended")
    tagged_video(creator, "#dogs only")

    seen, cursor = [], None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = api_client.get("/api/v1/hashtags/cats/videos", params)
        assert response.status_code == 200, response.content
        seen += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(video.id) for video in newest_first]


def test_hashtag_videos_sorted_top_by_engagement_with_viewer_flags(user):
    creator = UserFactory()
    quiet = tagged_video(creator, "#cats quiet", age_minutes=0)
    loved = tagged_video(creator, "#cats loved", age_minutes=5, likes_count=50)
    liked = tagged_video(creator, "#cats liked", age_minutes=10, likes_count=5, comments_count=3)
    Like.objects.create(user=user, video=liked)
    client = client_for(user)

    first = client.get("/api/v1/hashtags/cats/videos", {"sort": "top", "limit": 2}).json()
    assert [item["id"] for item in first["items"]] == [str(loved.id), str(liked.id)]
    assert first["items"][1]["viewer"]["liked"] is True
    second = client.get("/api/v1/hashtags/cats/videos", {"sort": "top", "limit": 2, "cursor": first["next_cursor"]})
    assert [item["id"] for item in second.json()["items"]] == [str(quiet.id)]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [({"sort": "hot"}, "sort"), ({"limit": 0}, "limit"), ({"cursor": "garbage"}, "cursor"),
     ({"sort": "top", "cursor": "garbage"}, "cursor")],
)  # fmt: skip
def test_bad_hashtag_video_parameters_are_400(api_client, params, field):
    tagged_video(UserFactory(), "#cats")
    response = api_client.get("/api/v1/hashtags/cats/videos", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
