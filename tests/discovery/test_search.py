"""Search: users (prefix, typo tolerant), videos (full text), hashtags (prefix); bad input."""

import pytest
from django.db import connection
from django.utils import timezone

from activity.models import Follow
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.discovery import recount, tagged_video
from videos.search import VIDEO_SEARCH_SQL

pytestmark = pytest.mark.django_db


def search(client, q, kind, **params):
    response = client.get("/api/v1/search", {"q": q, "type": kind, **params})
    assert response.status_code == 200, response.content
    return response.json()


def usernames(page) -> list[str]:
    return [item["username"] for item in page["items"]]


def test_users_are_found_by_username_or_display_name_prefix_and_typos(user):
    margaret = UserFactory(username="margaret", display_name="Margaret Hamilton")
    UserFactory(username="marguerite", display_name="Marguerite Duras")
    UserFactory(username="hamster", display_name="Ham Ster")
    UserFactory(username="zed", display_name="Zed")
    Follow.objects.create(follower=user, followee=margaret)
    client = client_for(user)

    assert set(usernames(search(client, "marg", "users"))) == {"margaret", "marguerite"}
    assert usernames(search(client, "margaret", "users"))[0] == "margaret"  # exact username first
    assert usernames(search(client, "hamil", "users"))[0] == "margaret"  # a display-name word, before typos
    assert "margaret" in usernames(search(client, "margeret", "users"))  # a typo
    page = search(client, "MARGARET", "users")
    assert page["items"][0] == {
        "username": "margaret", "display_name": "Margaret Hamilton", "followers_count": 0, "following": True,
    }  # fmt: skip
    assert search(client, "100%_", "users")["items"] == []  # wildcards are literal


def test_suspended_and_inactive_users_never_appear(api_client):
    UserFactory(username="spammer1", suspended_at=timezone.now())
    UserFactory(username="spammer2", is_active=False)
    UserFactory(username="spammer3")
    page = search(api_client, "spammer", "users")
    assert usernames(page) == ["spammer3"]
    assert page["items"][0]["following"] is None  # anonymous


def test_videos_are_found_by_caption_words_and_hashtags_ranked():
    creator, suspended = UserFactory(), UserFactory(suspended_at=timezone.now())
    both = tagged_video(creator, "my cat naps all day #cat #naps", age_minutes=10)
    one = tagged_video(creator, "a dog and a cat", age_minutes=0)
    tagged_video(creator, "cat hidden", moderation="hidden")
    tagged_video(creator, "cat removed", moderation="removed")
    tagged_video(creator, "cat processing", status="processing", published_at=None)
    tagged_video(suspended, "cat by a suspended creator")
    tagged_video(creator, "nothing to see")
    client = client_for(UserFactory())

    page = search(client, "cat", "videos")
    assert [item["id"] for item in page["items"]] == [str(both.id), str(one.id)]
    assert page["items"][0]["viewer"] == {"liked": False, "favorited": False, "following": False}
    assert [item["id"] for item in search(client, "cat naps", "videos")["items"]] == [str(both.id)]
    assert [item["id"] for item in search(client, "#naps", "videos")["items"]] == [str(both.id)]
    assert [item["id"] for item in search(client, "a do", "videos")["items"]] == []  # prefixes from 3 letters
    assert [item["id"] for item in search(client, "a dog", "videos")["items"]] == [str(one.id)]
    assert search(client, "cat's & | ! (:*", "videos")["items"] == []  # operators are not syntax


def test_hashtags_are_found_by_prefix_most_used_first():
    creator = UserFactory()
    for _ in range(3):
        tagged_video(creator, "#catsofinstagram")
    tagged_video(creator, "#cats")
    tagged_video(creator, "#catnip", moderation="hidden")  # no public video: not listed
    tagged_video(creator, "#dogs")
    recount()
    page = search(client_for(UserFactory()), "#Cat", "hashtags")
    assert page["items"] == [{"tag": "catsofinstagram", "video_count": 3}, {"tag": "cats", "video_count": 1}]


def test_pages_continue_without_repeats_and_stop_at_the_offset_bound(api_client, settings):
    creator = UserFactory()
    for n in range(7):
        tagged_video(creator, f"sunset number {n}", age_minutes=n)
    seen, cursor = [], None
    while True:
        page = search(api_client, "sunset", "videos", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 7 and len(set(seen)) == 7

    settings.SEARCH_MAX_OFFSET = 3
    first = search(api_client, "sunset", "videos", limit=3)
    second = search(api_client, "sunset", "videos", limit=3, cursor=first["next_cursor"])
    assert len(second["items"]) == 3 and second["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"type": "videos"}, "q"),
        ({"q": "   ", "type": "users"}, "q"),
        ({"q": "x" * 101, "type": "videos"}, "q"),
        ({"q": "cats", "type": "sounds"}, "type"),
        ({"q": "cats", "limit": "51"}, "limit"),
        ({"q": "cats", "limit": "ten"}, "limit"),
        ({"q": "cats", "cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_bad_search_input_is_a_400_in_the_error_shape(api_client, params, field):
    response = api_client.get("/api/v1/search", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"} and field in error["fields"]


def test_a_cursor_from_another_query_or_type_is_refused(api_client):
    creator = UserFactory(username="sunny")
    for n in range(3):
        tagged_video(creator, f"sunny day {n}")
    cursor = search(api_client, "sunny", "videos", limit=1)["next_cursor"]
    assert cursor
    for params in ({"q": "sunny", "type": "users"}, {"q": "day", "type": "videos"}):
        response = api_client.get("/api/v1/search", {**params, "cursor": cursor})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_cursor"


def explain(sql: str, params) -> str:
    """The plan when only the search indexes could avoid reading every row."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_search_queries_can_use_their_indexes():
    """The expressions in the queries match the indexes (a mismatch means a scan of every row)."""
    from accounts.search import USER_SEARCH_SQL

    plan = explain(
        USER_SEARCH_SQL, {"q": "marg", "prefix": "marg%", "word_prefix": "% marg%", "limit": 10, "offset": 0}
    )
    assert "accounts_user_username_trgm" in plan or "accounts_user_username_prefix" in plan
    assert "accounts_user_display_name_trgm" in plan
    plan = explain(VIDEO_SEARCH_SQL, {"query": "'cat':*", "candidates": 100, "limit": 10, "offset": 0})
    assert "videos_video_caption_search" in plan
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM videos_hashtag WHERE name LIKE 'ca%%'")
        assert "hashtag_name_prefix" in "\n".join(row[0] for row in cursor.fetchall())
