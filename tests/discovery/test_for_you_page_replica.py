"""A For You page read while the replica lags: the list (built from everything committed)
may hold a video the replica has not replayed; its card is read on the primary, never
silently skipped as gone."""

import pytest
from django.db import connections

from discovery import for_you
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import replica_paused, wait_for_replica_to_catch_up

pytestmark = pytest.mark.django_db(transaction=True)


def on_replica(video) -> bool:
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM videos_video WHERE id = %s", [video.id])
        return cursor.fetchone()[0] == 1


def test_a_card_the_lagging_replica_has_not_replayed_is_read_on_the_primary():
    viewer = UserFactory()
    client = client_for(viewer)  # logged in (a write) before the pause: reads go to the replica
    replayed = VideoFactory(views_count=0)
    wait_for_replica_to_catch_up()
    with replica_paused():
        lagging = VideoFactory(views_count=0)  # on the primary only
        for_you.for_you_rebuild(user_id=viewer.pk)  # as the worker builds it: from the primary
        assert not on_replica(lagging)

        response = client.get("/api/v1/feed/for-you")

    assert response.status_code == 200, response.content
    assert {card["id"] for card in response.json()["items"]} == {str(replayed.id), str(lagging.id)}
