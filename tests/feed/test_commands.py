"""The rebuild_feeds and feed_stats management commands."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_redis import get_redis_connection

from feed import store
from tests.factories import FollowFactory, UserFactory, VideoFactory

pytestmark = pytest.mark.django_db


def test_rebuild_feeds_for_one_user_and_for_all():
    creator = UserFactory()
    fans = UserFactory.create_batch(3)
    for fan in fans:
        FollowFactory(follower=fan, followee=creator)
    VideoFactory.create_batch(2, owner=creator)
    out = StringIO()
    call_command("rebuild_feeds", "--user", fans[0].username.upper(), stdout=out)
    assert "2 entries" in out.getvalue()
    assert store.feed_size(user_id=fans[0].pk) == 2
    get_redis_connection("default").flushdb()
    out = StringIO()
    call_command("rebuild_feeds", "--all", stdout=out)
    assert all(store.feed_size(user_id=fan.pk) == 2 for fan in fans)
    assert "rebuilt 4 feeds" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("rebuild_feeds", "--user", "nobody")


def test_feed_stats_reports_sizes_memory_and_hit_rate(auth_client, user):
    creator = UserFactory()
    FollowFactory(follower=user, followee=creator)
    VideoFactory.create_batch(3, owner=creator)
    user.last_seen_at = timezone.now()
    user.save()
    auth_client.get("/api/v1/feed")  # a miss and a rebuild
    auth_client.get("/api/v1/feed")  # a hit
    out = StringIO()
    call_command("feed_stats", "--json", stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["feeds_built"] == 1
    assert figures["entries_max"] == 3
    assert figures["bytes_per_entry_avg"] > 0
    assert figures["misses"] == 1 and figures["rebuilds"] == 1 and figures["hits"] >= 1
    assert 0 < figures["hit_rate"] < 1
