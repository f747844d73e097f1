"""A suspended user's profile is gone for everyone but staff, like their videos."""

import pytest

from moderation.services import user_suspend
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended_creator():
    creator = UserFactory(username="spammer", bio="buy followers at example.test")
    VideoFactory(owner=creator)
    moderator = UserFactory(username="mod", is_staff=True)
    user_suspend(user=creator, actor=moderator, reason="spam")
    return creator


@pytest.mark.parametrize(
    "path", ["/api/v1/users/spammer", "/api/v1/users/spammer/followers", "/api/v1/users/spammer/videos"]
)
def test_suspended_users_profile_and_lists_are_404_to_the_public(api_client, suspended_creator, path):
    for client in (api_client, client_for(UserFactory())):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"
        assert "buy followers" not in response.content.decode()


def test_staff_still_see_a_suspended_users_profile(suspended_creator):
    staff = UserFactory(username="support", is_staff=True)
    response = client_for(staff).get("/api/v1/users/spammer")
    assert response.status_code == 200
    assert response.json()["username"] == "spammer"


def test_reinstated_users_profile_is_public_again(api_client, suspended_creator):
    suspended_creator.suspended_at = None
    suspended_creator.save(update_fields=["suspended_at"])
    assert api_client.get("/api/v1/users/spammer").status_code == 200
