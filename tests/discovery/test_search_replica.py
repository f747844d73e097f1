"""Search and hashtag pages read the replica."""

import pytest

from tests.factories import UserFactory
from tests.helpers.db import aliases_that_read
from tests.helpers.discovery import tagged_video
from tests.helpers.stack import wait_for_replica_to_catch_up

pytestmark = pytest.mark.django_db(transaction=True)


def test_search_and_hashtag_pages_are_served_by_the_replica(api_client):
    creator = UserFactory(username="replicated")
    tagged_video(creator, "served from the replica #replicated")
    wait_for_replica_to_catch_up()

    def read(path, params, expected):
        def action():
            response = api_client.get(path, params)
            assert response.status_code == 200, response.content
            assert len(response.json()["items"]) == expected

        return action

    assert aliases_that_read("accounts_user", read("/api/v1/search", {"q": "replic", "type": "users"}, 1)) == {
        "replica"
    }
    assert aliases_that_read("videos_video", read("/api/v1/search", {"q": "replica", "type": "videos"}, 1)) == {
        "replica"
    }
    assert aliases_that_read("videos_video", read("/api/v1/hashtags/replicated/videos", {}, 1)) == {"replica"}
