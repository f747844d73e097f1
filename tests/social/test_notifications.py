"""The notifications inbox: aggregation, idempotency under repeats and redelivery,
withdrawal, blocks and mutes, mentions, marking read, the cap, expiry and the push hook."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from activity.engagement.services import comment_create, comment_delete, like_create, like_delete
from activity.models import Notification, NotificationActor
from activity.notifications import selectors as notification_selectors
from activity.notifications import services as notifications
from tests.factories import UserFactory, VideoFactory
from tests.helpers.api import assert_error, client_for

pytestmark = pytest.mark.django_db

SENT: list[dict] = []


class RecordingPushBackend:
    def send(self, **payload) -> None:
        SENT.append(payload)


def inbox(user) -> dict:
    response = client_for(user).get("/api/v1/notifications")
    assert response.status_code == 200, response.content
    return response.json()


def test_many_likes_of_one_video_are_one_item_with_an_exact_count_and_the_latest_actors(run_on_commit):
    video = VideoFactory()
    fans = [UserFactory(username=f"fan_{index}") for index in range(6)]
    for fan in fans:
        run_on_commit(lambda fan=fan: like_create(user=fan, video_id=video.id))
    body = inbox(video.owner)
    assert body["unread_count"] == 1
    [item] = body["items"]
    assert item["kind"] == "like"
    assert item["actor_count"] == 6
    assert [actor["username"] for actor in item["actors"]] == ["fan_5", "fan_4", "fan_3"]
    assert item["video"]["id"] == str(video.id)
    assert item["comment"] is None
    assert item["read"] is False
    assert set(item["actors"][0]) == {"username", "display_name", "avatar_url"}


def test_repeats_like_unlike_like_and_redelivered_tasks_never_make_two_items(run_on_commit):
    video, fan = VideoFactory(), UserFactory()
    for _ in range(3):
        run_on_commit(lambda: like_create(user=fan, video_id=video.id))
    run_on_commit(lambda: like_delete(user=fan, video_id=video.id))
    run_on_commit(lambda: like_create(user=fan, video_id=video.id))
    for _ in range(3):  # the broker delivers the same task again
        notifications.notification_sync_like(user_id=fan.pk, video_id=str(video.id))
    assert Notification.objects.count() == 1
    assert NotificationActor.objects.count() == 1
    assert inbox(video.owner)["items"][0]["actor_count"] == 1


def test_an_unlike_withdraws_its_part_and_the_last_one_the_item(run_on_commit):
    video, first, second = VideoFactory(), UserFactory(), UserFactory()
    for fan in (first, second):
        run_on_commit(lambda fan=fan: like_create(user=fan, video_id=video.id))
    run_on_commit(lambda: like_delete(user=second, video_id=video.id))
    [item] = inbox(video.owner)["items"]
    assert (item["actor_count"], [a["username"] for a in item["actors"]]) == (1, [first.username])
    run_on_commit(lambda: like_delete(user=first, video_id=video.id))
    assert inbox(video.owner) == {"items": [], "next_cursor": None, "unread_count": 0}


def test_likes_in_different_windows_are_separate_items(run_on_commit):
    video, first, second = VideoFactory(), UserFactory(), UserFactory()
    run_on_commit(lambda: like_create(user=first, video_id=video.id))
    Notification.objects.update(group_key=f"like:{video.id}:1")  # as if written in an old window
    run_on_commit(lambda: like_create(user=second, video_id=video.id))
    assert [item["actor_count"] for item in inbox(video.owner)["items"]] == [1, 1]


def test_follows_aggregate_and_a_comment_is_its_own_item_withdrawn_on_delete(run_on_commit, follows):
    owner = UserFactory()
    video = VideoFactory(owner=owner)
    for _ in range(3):
        follows(UserFactory(), owner)
    commenter = UserFactory()
    comment = run_on_commit(lambda: comment_create(author=commenter, video_id=video.id, text="nice one"))
    items = inbox(owner)["items"]
    assert [(item["kind"], item["actor_count"]) for item in items] == [("comment", 1), ("follow", 3)]
    assert items[0]["comment"] == {"id": comment.id, "text": "nice one"}
    run_on_commit(lambda: comment_delete(user=commenter, comment_id=comment.id))
    assert [item["kind"] for item in inbox(owner)["items"]] == ["follow"]


def test_mentions_notify_existing_users_once_per_comment_at_most_ten(run_on_commit):
    video, author = VideoFactory(), UserFactory()
    named = [UserFactory(username=f"pal_{index:02}") for index in range(12)]
    blocker = UserFactory(username="blocker_x")
    run_on_commit(lambda: client_for(blocker).put(f"/api/v1/users/{author.username}/block"))
    text = "@pal_00 @pal_00 @ghost_user @blocker_x " + " ".join(f"@{user.username}" for user in named[1:])
    run_on_commit(lambda: comment_create(author=author, video_id=video.id, text=text[:500]))
    mentioned = set(Notification.objects.filter(kind="mention").values_list("recipient__username", flat=True))
    # Ten distinct names are read: pal_00, ghost_user (no such user), blocker_x (blocked), pal_01..pal_07.
    assert mentioned == {f"pal_{index:02}" for index in range(8)}
    assert Notification.objects.filter(kind="mention", recipient=named[0]).count() == 1
    [item] = inbox(named[0])["items"]
    assert item["kind"] == "mention" and item["actors"][0]["username"] == author.username


def test_a_caption_mention_notifies_once_when_the_video_is_public_and_an_edit_adds_new_names(run_on_commit):
    from videos.services import video_published, video_update_caption

    creator, pal, newcomer = UserFactory(), UserFactory(username="pal_caption"), UserFactory(username="pal_later")
    hidden = VideoFactory(owner=creator, caption="with @pal_caption", moderation="hidden")
    run_on_commit(lambda: video_published(video_id=hidden.id))
    assert Notification.objects.filter(kind="mention").count() == 0  # not public: nobody is told
    video = VideoFactory(owner=creator, caption="hi @pal_caption and @ghost_user and @" + creator.username)
    run_on_commit(lambda: video_published(video_id=video.id))
    run_on_commit(lambda: video_published(video_id=video.id))  # a redelivered publish
    [item] = inbox(pal)["items"]
    assert item["kind"] == "mention" and item["video"]["id"] == str(video.id)
    assert item["actors"][0]["username"] == creator.username
    assert Notification.objects.filter(kind="mention").count() == 1  # not the author, not a ghost
    run_on_commit(lambda: video_update_caption(video_id=video.id, owner=creator, caption="now @pal_later @pal_caption"))
    assert [item["kind"] for item in inbox(newcomer)["items"]] == ["mention"]
    assert len(inbox(pal)["items"]) == 1


def test_a_block_withdraws_and_a_mute_silences_the_other_users_notifications(run_on_commit):
    owner, blocked, muted = UserFactory(), UserFactory(), UserFactory()
    video = VideoFactory(owner=owner)
    run_on_commit(lambda: like_create(user=blocked, video_id=video.id))
    run_on_commit(lambda: client_for(owner).put(f"/api/v1/users/{muted.username}/mute"))
    run_on_commit(lambda: like_create(user=muted, video_id=video.id))
    assert inbox(owner)["items"][0]["actor_count"] == 1  # the muted like never arrived
    run_on_commit(lambda: client_for(owner).put(f"/api/v1/users/{blocked.username}/block"))
    assert inbox(owner)["items"] == []
    # The muted user notices nothing: their like stands.
    assert client_for(muted).get("/api/v1/me/likes").json()["items"][0]["id"] == str(video.id)


def test_mark_read_up_to_an_item_or_all_and_the_unread_count(run_on_commit):
    owner = UserFactory()
    videos = [VideoFactory(owner=owner) for _ in range(3)]
    for video in videos:
        run_on_commit(lambda video=video: like_create(user=UserFactory(), video_id=video.id))
    client = client_for(owner)
    items = client.get("/api/v1/notifications").json()["items"]
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 3}
    assert client.post("/api/v1/notifications/read", {"up_to": items[1]["id"]}, format="json").status_code == 204
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 1}
    assert [item["read"] for item in client.get("/api/v1/notifications").json()["items"]] == [False, True, True]
    assert client.post("/api/v1/notifications/read", {"all": True}, format="json").status_code == 204
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}


@pytest.mark.parametrize(
    "body", [{}, {"all": False}, {"up_to": 0}, {"up_to": "x"}, {"up_to": 1, "all": True}, {"up_to": 2**70}, [1]]
)
def test_mark_read_rejects_bad_input_with_a_400(body):
    assert_error(client_for(UserFactory()).post("/api/v1/notifications/read", body, format="json"), 400)


def test_notifications_require_authentication(api_client):
    for path in ("/api/v1/notifications", "/api/v1/notifications/unread-count"):
        assert_error(api_client.get(path), 401)
    assert_error(api_client.post("/api/v1/notifications/read", {"all": True}, format="json"), 401)


def test_the_inbox_pages_with_a_cursor_and_a_fixed_number_of_queries(run_on_commit, django_assert_max_num_queries):
    owner = UserFactory()
    for _ in range(5):
        video = VideoFactory(owner=owner)
        run_on_commit(lambda video=video: like_create(user=UserFactory(), video_id=video.id))
    client = client_for(owner)
    client.get("/api/v1/notifications")  # caches the viewer's blocks and mutes
    with django_assert_max_num_queries(8):
        first = client.get("/api/v1/notifications", {"limit": 3}).json()
    second = client.get("/api/v1/notifications", {"limit": 3, "cursor": first["next_cursor"]}).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(ids) == len(set(ids)) == 5
    assert second["next_cursor"] is None


def test_the_inbox_is_capped_per_recipient_and_old_items_expire(run_on_commit, settings):
    settings.NOTIFICATION_MAX_PER_RECIPIENT = 3
    owner = UserFactory()
    videos = [VideoFactory(owner=owner) for _ in range(5)]
    for video in videos:
        run_on_commit(lambda video=video: like_create(user=UserFactory(), video_id=video.id))
    kept = [item["video"]["id"] for item in inbox(owner)["items"]]
    assert kept == [str(video.id) for video in reversed(videos[2:])]
    Notification.objects.filter(video=videos[2]).update(updated_at=timezone.now() - timedelta(days=31))
    assert notifications.notifications_expire() == 1
    assert len(inbox(owner)["items"]) == 2


def test_a_new_actor_is_pushed_through_the_configured_backend(run_on_commit, settings):
    settings.NOTIFICATION_PUSH_BACKEND = "tests.social.test_notifications.RecordingPushBackend"
    SENT.clear()
    video, fan = VideoFactory(), UserFactory()
    run_on_commit(lambda: like_create(user=fan, video_id=video.id))
    run_on_commit(lambda: like_create(user=fan, video_id=video.id))  # a repeat pushes nothing
    assert [(push["recipient_id"], push["kind"], push["actor_id"]) for push in SENT] == [
        (video.owner_id, "like", fan.pk)
    ]


def test_the_demo_data_has_notifications_for_alice():
    def fake_demo_video(*, owner, caption, pattern, **kwargs):
        return str(VideoFactory(owner=owner, caption=caption).id)

    with mock.patch("demo.clips.create_demo_video", side_effect=fake_demo_video):
        call_command("seed_demo", stdout=mock.Mock())
        call_command("seed_demo", stdout=mock.Mock())  # idempotent
    page = notification_selectors.notifications_page(user=User.objects.get(username="alice"), cursor=None, limit=50)
    kinds = sorted((item["kind"], item["actor_count"]) for item in page.items)
    assert kinds == [("comment", 1), ("follow", 3), ("like", 3), ("mention", 1)]
