"""Nothing of the bucket's layout reaches a client: no storage keys in any video answer."""

import json

import pytest

from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db


def field_names(payload) -> set[str]:
    if isinstance(payload, dict):
        return set(payload) | {name for value in payload.values() for name in field_names(value)}
    if isinstance(payload, list):
        return {name for value in payload for name in field_names(value)}
    return set()


def assert_no_storage_keys(payload) -> None:
    """URLs name their objects (they must); a bare key or the originals' prefix must not appear."""
    assert not {name for name in field_names(payload) if name.endswith("_key")}, json.dumps(payload)[:400]
    assert "originals/" not in json.dumps(payload)


def test_owners_own_video_answers_carry_no_storage_keys():
    owner = UserFactory()
    ready = VideoFactory(owner=owner)
    pending = VideoFactory(owner=owner, status="processing", published_at=None)
    client = client_for(owner)
    for path in (f"/api/v1/videos/{ready.id}", f"/api/v1/videos/{pending.id}", "/api/v1/me/videos"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_storage_keys(response.json())
    edited = client.patch(f"/api/v1/videos/{ready.id}", {"caption": "new words"}, format="json")
    assert edited.status_code == 200, edited.content
    assert_no_storage_keys(edited.json())


def test_creating_an_upload_answers_with_no_storage_key(settings):
    client = client_for(UserFactory())
    response = client.post(
        "/api/v1/videos", {"caption": "hi", "content_type": "video/mp4", "size_bytes": 1000}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    body.pop("upload")  # the presigned URL necessarily names the object it writes
    assert_no_storage_keys(body)
