"""The API contract, as a client generator reads it: a client generated from ``/api/schema``
with openapi-python-client parses real responses of every list endpoint through its typed
models, and nothing in a response is left outside the schema (no untyped extras).

The feed's warm pages are spliced from JSON bytes (``api.endpoints.feed.page_response``), so this is
what keeps that path honest: every card on every list is the ``VideoCardOutput`` component
(with ``rank`` on trending cards)."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from django.test import Client

from activity.engagement import services as engagement_services
from activity.graph import services as graph_services
from feed import services as feed_services
from tests.factories import CommentFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from videos.services import video_published

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

GENERATOR = Path(sys.executable).parent / "openapi-python-client"


@pytest.fixture(scope="module")
def generated_client(tmp_path_factory, django_db_blocker):
    """The client package generated from the schema this app serves."""
    with django_db_blocker.unblock():
        schema = Client(REMOTE_ADDR="127.0.0.1").get("/api/schema", {"format": "json"})
    assert schema.status_code == 200
    root = tmp_path_factory.mktemp("openapi-client")
    (root / "schema.json").write_bytes(schema.content)
    completed = subprocess.run(
        [str(GENERATOR), "generate", "--path", "schema.json", "--output-path", "tiktok_api_client", "--meta", "none"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (root / "tiktok_api_client" / "models").is_dir(), completed.stdout[-2000:] + completed.stderr[-2000:]
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("tiktok_api_client.models")
    finally:
        sys.path.remove(str(root))


def untyped_extras(value, path="$") -> list[str]:
    """Paths of members a generated model had to keep as untyped ``additional_properties``."""
    found = []
    if attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        found += [f"{path}.{name}" for name in extra]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += untyped_extras(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += untyped_extras(item, f"{path}[{index}]")
    return found


UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z$")


def same_instants(value):
    """``...Z`` and ``...+00:00`` are the same instant (DRF writes the first, a parsed
    datetime the second)."""
    if isinstance(value, dict):
        return {key: same_instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [same_instants(item) for item in value]
    if isinstance(value, str) and UTC_Z.match(value):
        return value[:-1] + "+00:00"
    return value


def parse(models, model_name: str, response) -> object:
    assert response.status_code == 200, response.content
    body = response.json()
    parsed = getattr(models, model_name).from_dict(body)
    assert untyped_extras(parsed) == []
    assert same_instants(parsed.to_dict()) == same_instants(body)  # every member typed, nothing lost
    return parsed


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """A viewer following a creator with public videos, with likes, favorites, comments."""
    creator, viewer = UserFactory(display_name="Creator"), UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        graph_services.follow_create(follower=viewer, followee=creator)
        videos = [VideoFactory(owner=creator, caption=f"clip {index}") for index in range(3)]
        for video in videos:
            video_published(video_id=video.id)
        engagement_services.like_create(user=viewer, video_id=videos[0].id)
        engagement_services.favorite_create(user=viewer, video_id=videos[1].id)
    CommentFactory(video=videos[0], author=viewer)
    feed_services.trending_recompute()
    return {"creator": creator, "viewer": viewer, "videos": videos}


def test_every_list_endpoint_parses_through_the_generated_typed_models(generated_client, world):
    models = generated_client
    client = client_for(world["viewer"])
    creator = world["creator"].username

    for _ in range(2):  # the first feed page is built from SQL, the second spliced from Redis bytes
        feed = parse(models, "FeedPageOutput", client.get("/api/v1/feed"))
        assert len(feed.items) == 3
        assert {item.viewer.liked for item in feed.items} == {True, False}
    for _ in range(2):  # For You: the list is built on the first read, spliced from Redis bytes on the second
        for_you = parse(models, "ForYouPageOutput", client.get("/api/v1/feed/for-you"))
        assert for_you.items and all(item.rank.reasons for item in for_you.items)
    trending = parse(models, "FeedPageOutput", client.get("/api/v1/feed/trending"))
    assert trending.items and all(item.rank.score >= 0 for item in trending.items)
    assert len(parse(models, "ActivityVideoPageOutput", client.get("/api/v1/me/likes")).items) == 1
    assert len(parse(models, "ActivityVideoPageOutput", client.get("/api/v1/me/favorites")).items) == 1
    assert len(parse(models, "VideoCardPageOutput", client.get(f"/api/v1/users/{creator}/videos")).items) == 3
    parse(models, "VideoCardPageOutput", client_for(world["creator"]).get("/api/v1/me/videos"))
    parse(models, "FollowUserPageOutput", client.get(f"/api/v1/users/{creator}/followers"))
    parse(models, "FollowUserPageOutput", client.get(f"/api/v1/users/{world['viewer'].username}/following"))
    comments = parse(models, "CommentPageOutput", client.get(f"/api/v1/videos/{world['videos'][0].id}/comments"))
    assert len(comments.items) == 1


def test_search_pages_parse_as_the_typed_page_of_their_type(generated_client, world):
    models = generated_client
    client = client_for(world["viewer"])
    users = parse(models, "SearchUsersPageOutput", client.get("/api/v1/search", {"q": "creat", "type": "users"}))
    assert [item.username for item in users.items] == [world["creator"].username]
    videos = parse(models, "SearchVideosPageOutput", client.get("/api/v1/search", {"q": "clip", "type": "videos"}))
    assert videos.items and all(item.creator.username == world["creator"].username for item in videos.items)
    parse(models, "SearchHashtagsPageOutput", client.get("/api/v1/search", {"q": "#cl", "type": "hashtags"}))
