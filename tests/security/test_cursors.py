"""Tampered cursors on every list: a 400 ``invalid_cursor`` in the error shape, never a 500.

Cursors are signed (``tiktok.cursors``): unsigned, forged, truncated or garbage ones are
refused before anything is decoded. Payloads that *are* signed (as by a previous key or
older code) are still bounded value by value: huge and non-finite numbers, negative
offsets, non-UUID members, naive or absurd times.
"""

from __future__ import annotations

import base64
import json
import uuid
from urllib.parse import urlencode

import pytest
from django.core import signing

from tests.factories import CommentFactory, FollowFactory, VideoFactory
from tests.helpers.api import assert_error
from tiktok import cursors
from videos.hashtags import video_hashtags_set

pytestmark = pytest.mark.django_db

MEMBER = str(uuid.uuid4())
WHEN = "2024-05-01T12:00:00+00:00"

# Payloads as the lists (keyset "p") and the feed ("k", "s", "m"; trending "v", "o") read them.
OUT_OF_BOUNDS = [
    {"p": [10**30, 10**30]},
    {"p": [WHEN, 10**30]},
    {"p": [WHEN, -1]},
    {"p": [WHEN, 2**63]},
    {"p": [WHEN, float("inf")]},
    {"p": [WHEN, float("nan")]},
    {"p": [WHEN, "1e309"]},
    {"p": [WHEN, "not-a-uuid-or-number"]},
    {"p": [WHEN, True]},
    {"p": [WHEN, None]},
    {"p": ["99999-01-01T00:00:00+00:00", 1]},
    {"p": ["0001-01-01T00:00:00+00:00", MEMBER]},
    {"p": ["2024-05-01T12:00:00", 1]},  # no time zone
    {"p": [WHEN]},
    {"p": "x"},
    {"k": "f", "s": 10**30, "m": MEMBER},
    {"k": "f", "s": -1, "m": MEMBER},
    {"k": "f", "s": float("inf"), "m": MEMBER},
    {"k": "f", "s": float("nan"), "m": MEMBER},
    {"k": "s", "s": 1_714_564_800_000_000, "m": "x' OR 1=1"},
    {"k": "s", "s": 1_714_564_800_000_000, "m": 2**53},  # feed ids stay below 2^53
    {"k": "s", "s": 1_714_564_800_000_000, "m": 0},
    {"k": "s", "s": 1_714_564_800_000_000, "m": "12"},  # text: only a (pre-feed-id) UUID
    {"k": "t", "v": "1714564800000", "o": -1},
    {"k": "t", "v": "1714564800000", "o": 10**30},
    {"k": "t", "v": "../../etc", "o": 0},
    {"k": "t", "v": 17, "o": 0},
    {"k": "z"},
    {"l": "videos:abc", "o": -5},
]


def unsigned(payload: dict) -> str:
    """The cursor format before signing: bare base64 of JSON."""
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def tampered_cursors() -> list[str]:
    valid_feed = cursors.sign({"k": "f", "s": 1_714_564_800_000_000, "m": MEMBER})
    payload, _, signature = valid_feed.rpartition(":")
    return [
        *(cursors.sign(payload) for payload in OUT_OF_BOUNDS),  # signed, but out of bounds
        *(unsigned(payload) for payload in OUT_OF_BOUNDS[:6] + OUT_OF_BOUNDS[15:23]),  # unsigned
        signing.Signer(key="not-the-secret-key", salt=cursors.SALT).sign_object({"k": "f", "s": 1, "m": MEMBER}),
        signing.Signer(salt="another.salt").sign_object({"p": [WHEN, 1]}),
        f"{unsigned({'k': 't', 'v': '1', 'o': 0})}:{signature}",  # someone else's signature
        valid_feed[:-3],  # truncated
        payload,  # signature cut off
        "zzz",
        "%%%",
        "A" * 5000,
        "::::",
        "\x00",
        "ey" * 100 + ":" + "A" * 43,
    ]


@pytest.fixture
def lists(user, make_user):
    """One URL per list endpoint, each with something to list."""
    creator = make_user(username="creator")
    video = VideoFactory(owner=creator, caption="fun #fun")
    video_hashtags_set(video=video)
    CommentFactory(video=video)
    FollowFactory(follower=user, followee=creator)
    return {
        "feed": "/api/v1/feed",
        "trending": "/api/v1/feed/trending",
        "comments": f"/api/v1/videos/{video.id}/comments",
        "followers": "/api/v1/users/creator/followers",
        "following": f"/api/v1/users/{user.username}/following",
        "my likes": "/api/v1/me/likes",
        "my favorites": "/api/v1/me/favorites",
        "user videos": "/api/v1/users/creator/videos",
        "my videos": "/api/v1/me/videos",
        "search": "/api/v1/search?q=fun",
        "hashtag videos": "/api/v1/hashtags/fun/videos",
        "top hashtag videos": "/api/v1/hashtags/fun/videos?sort=top",
    }


@pytest.mark.parametrize(
    "name",
    [
        "feed", "trending", "comments", "followers", "following", "my likes", "my favorites", "user videos",
        "my videos", "search", "hashtag videos", "top hashtag videos",
    ],
)  # fmt: skip
def test_every_list_answers_a_tampered_cursor_with_400_invalid_cursor(auth_client, lists, name):
    url = lists[name]
    assert auth_client.get(url).status_code == 200
    separator = "&" if "?" in url else "?"
    for cursor in tampered_cursors():
        response = auth_client.get(f"{url}{separator}{urlencode({'cursor': cursor})}")
        error = assert_error(response, 400, "invalid_cursor")
        assert error["fields"] == {"cursor": ["Not a cursor from this API."]}, cursor


def test_a_cursor_the_api_issued_still_pages(auth_client, make_user, user):
    creator = make_user(username="prolific")
    for _ in range(3):
        FollowFactory(followee=creator)
    first = auth_client.get("/api/v1/users/prolific/followers", {"limit": 2}).json()
    assert len(first["items"]) == 2 and ":" in first["next_cursor"]  # payload:signature
    second = auth_client.get("/api/v1/users/prolific/followers", {"limit": 2, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    names = [item["username"] for item in first["items"] + second.json()["items"]]
    assert len(names) == len(set(names)) == 3
