"""Retried creating POSTs with an Idempotency-Key act once and answer the first response."""

import threading
import uuid

import pytest
from django.db import connections

from activity.models import Comment
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tiktok.idempotency import records_delete_expired
from tiktok.models import IdempotencyRecord

pytestmark = pytest.mark.django_db


def post_comment(client, video, text, key=None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/videos/{video.id}/comments", {"text": text}, format="json", **headers)


def test_a_retried_comment_is_posted_once_and_answered_the_same():
    video, author = VideoFactory(), UserFactory()
    client = client_for(author)
    key = str(uuid.uuid4())
    first = post_comment(client, video, "first!", key)
    retry = post_comment(client, video, "first!", key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Comment.objects.filter(video=video, author=author).count() == 1


def test_without_a_key_each_post_acts():
    video, client = VideoFactory(), client_for(UserFactory())
    post_comment(client, video, "one")
    post_comment(client, video, "one")
    assert Comment.objects.filter(video=video).count() == 2


def test_the_same_key_with_another_body_is_a_422_and_changes_nothing():
    video, client = VideoFactory(), client_for(UserFactory())
    post_comment(client, video, "first", "key-1")
    response = post_comment(client, video, "something else", "key-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert list(Comment.objects.filter(video=video).values_list("text", flat=True)) == ["first"]


def test_keys_belong_to_their_user():
    video = VideoFactory()
    one, two = client_for(UserFactory()), client_for(UserFactory())
    assert post_comment(one, video, "same words", "shared-key").status_code == 201
    second = post_comment(two, video, "same words", "shared-key")
    assert second.status_code == 201 and "Idempotent-Replayed" not in second
    assert Comment.objects.filter(video=video).count() == 2


def test_a_failed_first_request_keeps_nothing_and_its_retry_acts():
    video, client = VideoFactory(), client_for(UserFactory())
    assert post_comment(client, video, "   ", "retry-me").status_code == 400  # empty after strip
    assert not IdempotencyRecord.objects.exists()
    assert post_comment(client, video, "   ", "retry-me").status_code == 400
    fixed = client.post(
        f"/api/v1/videos/{video.id}/comments", {"text": "now with words"}, format="json", HTTP_IDEMPOTENCY_KEY="new"
    )
    assert fixed.status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "has space"])
def test_a_malformed_key_is_a_400(key):
    video, client = VideoFactory(), client_for(UserFactory())
    response = (
        post_comment(client, video, "hello", key)
        if key
        else client.post(
            f"/api/v1/videos/{video.id}/comments", {"text": "hello"}, format="json", HTTP_IDEMPOTENCY_KEY=""
        )
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert not Comment.objects.filter(video=video).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_make_one_row_and_the_others_wait_or_get_a_409():
    video, author = VideoFactory(), UserFactory()
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def send():
        try:
            client = client_for(author)
            barrier.wait()
            statuses.append(post_comment(client, video, "at once", "burst").status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Comment.objects.filter(video=video).count() == 1
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert post_comment(client_for(author), video, "at once", "burst").status_code == 201  # replayed


def test_expired_records_are_deleted(settings):
    video, client = VideoFactory(), client_for(UserFactory())
    post_comment(client, video, "old", "old-key")
    IdempotencyRecord.objects.update(created_at="2000-01-01T00:00:00Z")
    assert records_delete_expired() == 1
    assert post_comment(client, video, "old", "old-key").status_code == 201
    assert Comment.objects.filter(video=video).count() == 2


def test_the_schema_documents_the_header():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    parameters = schema["paths"]["/api/v1/videos/{video_id}/comments"]["post"]["parameters"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in parameters)


def test_a_retried_upload_create_makes_one_video_and_hands_out_the_same_upload():
    owner = UserFactory()
    client = client_for(owner)
    body = {"caption": "retry me", "content_type": "video/mp4", "size_bytes": 1000}
    first = client.post("/api/v1/videos", body, format="json", HTTP_IDEMPOTENCY_KEY="upload-1")
    again = client.post("/api/v1/videos", body, format="json", HTTP_IDEMPOTENCY_KEY="upload-1")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert owner.videos.count() == 1


def test_a_retried_sign_up_creates_one_account(api_client):
    from accounts.models import User

    body = {"username": "retrying_rita", "password": "a-long-password-1"}
    first = api_client.post("/api/v1/auth/register", body, format="json", HTTP_IDEMPOTENCY_KEY="signup-1")
    again = api_client.post("/api/v1/auth/register", body, format="json", HTTP_IDEMPOTENCY_KEY="signup-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert User.objects.filter(username="retrying_rita").count() == 1
    assert IdempotencyRecord.objects.get().fingerprint not in first.content.decode()


def test_every_creating_post_documents_the_header():
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    for path in (
        "/api/v1/videos",
        "/api/v1/videos/{video_id}/comments",
        "/api/v1/videos/{video_id}/report",
        "/api/v1/comments/{comment_id}/report",
        "/api/v1/me/avatar",
        "/api/v1/auth/register",
    ):
        names = [parameter["name"] for parameter in paths[path]["post"].get("parameters", [])]
        assert "Idempotency-Key" in names, path
