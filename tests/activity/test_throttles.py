"""Every activity write is rate-limited per user."""

import pytest

from tests.factories import CommentFactory
from tests.helpers.api import assert_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("put", "/api/v1/users/{other}/follow", None),
        ("put", "/api/v1/videos/{video}/like", None),
        ("put", "/api/v1/videos/{video}/favorite", None),
        ("post", "/api/v1/videos/{video}/comments", {"text": "hi"}),
        ("post", "/api/v1/videos/{video}/report", {"reason": "spam"}),
        ("post", "/api/v1/comments/{comment}/report", {"reason": "spam"}),
        ("post", "/api/v1/videos/{video}/view", {"watched_ms": 1}),
    ],
)
def test_activity_writes_are_throttled_per_user(auth_client, make_user, settings, method, path, payload):
    comment = CommentFactory()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "writes": "2/min"},
    }
    url = path.format(other=make_user().username, video=comment.video_id, comment=comment.id)
    call = getattr(auth_client, method)
    for _ in range(2):
        assert call(url, payload, format="json").status_code < 400
    response = call(url, payload, format="json")
    assert_error(response, 429, "throttled")
    assert "Retry-After" in response
