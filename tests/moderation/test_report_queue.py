"""The report queues as a moderator works them: what a row shows, deciding one item with
a reason and landing on the next, comments in their context, quarantined videos playing."""

import html
import re

import pytest
import requests

from activity.models import CommentState
from moderation.models import AuditAction, AuditEntry, Report, ReportStatus
from moderation.services import video_moderate
from tests.factories import CommentFactory, UserFactory, VideoFactory
from tests.helpers.videos import upload
from videos.models import Moderation, Video
from videos.selectors import hls_url

pytestmark = pytest.mark.django_db

QUEUE = "/admin/moderation/reportedvideo/"
COMMENT_QUEUE = "/admin/moderation/reportedcomment/"


def reported(target, count: int, reason: str = "spam") -> list[Report]:
    field = "video" if isinstance(target, Video) else "comment"
    return [Report.objects.create(**{field: target}, reporter=UserFactory(), reason=reason) for _ in range(count)]


def decide(client, queue: str, pk, decision: str, reason: str):
    return client.post(f"{queue}{pk}/decide/", {"decision": decision, "reason": reason})


def test_a_queue_row_shows_poster_player_creator_standing_reasons_and_decisions(moderator_client):
    creator = UserFactory(username="repeat_offender")
    VideoFactory(owner=creator, moderation=Moderation.REMOVED)
    CommentFactory(author=creator, state=CommentState.REMOVED)
    video = VideoFactory(owner=creator, caption="giveaway")
    reported(video, 2, reason="spam")
    reported(video, 1, reason="hate")
    body = moderator_client.get(QUEUE).content.decode()
    assert f"processed/{video.id}/poster.jpg" in body  # poster
    player = re.search(r'<video class="queue-player" data-hls-src="([^"]+)"', body)
    assert player and html.unescape(player.group(1)) == hls_url(video_id=video.id, master_key=video.hls_master_key)
    assert "/static/moderation/vendor/hls.min.js" in body and "/static/moderation/queue.js" in body
    assert "repeat_offender" in body and "account " in body and "2 prior removals (1 video, 1 comment)" in body
    assert "Spam ×2, Hate speech" in body and ">3</strong> open" in body
    assert f'href="{QUEUE}{video.pk}/change/?decision=hide"' in body


def test_deciding_an_item_with_a_reason_opens_the_next_most_urgent_one_until_the_queue_is_empty(
    moderator, moderator_client
):
    first, second = VideoFactory(caption="first"), VideoFactory(caption="second")
    reported(first, 3), reported(second, 1)
    page = moderator_client.get(f"{QUEUE}{first.pk}/change/?decision=hide").content.decode()
    assert 'id="decision-form"' in page and 'value="hide" class="button default"' in page

    response = decide(moderator_client, QUEUE, first.pk, "hide", "Scam link")
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}{second.pk}/change/"
    first.refresh_from_db()
    assert (first.moderation, first.moderation_final) == (Moderation.HIDDEN, True)
    assert set(Report.objects.filter(video=first).values_list("status", flat=True)) == {ReportStatus.RESOLVED}
    entry = AuditEntry.objects.get(action=AuditAction.VIDEO_HIDE)
    assert (entry.actor, entry.reason, entry.target_id) == (moderator, "Scam link", str(first.id))

    response = decide(moderator_client, QUEUE, second.pk, "keep_visible", "Satire, allowed")
    assert response.status_code == 302 and response["Location"] == QUEUE
    assert Report.objects.get(video=second).status == ReportStatus.DISMISSED
    assert b"The queue is empty." in moderator_client.get(QUEUE).content


def test_a_decision_without_a_reason_or_with_an_unknown_choice_changes_nothing(moderator_client):
    video = VideoFactory()
    reported(video, 1)
    for decision, reason in (("hide", "  "), ("delete_everything", "because")):
        response = decide(moderator_client, QUEUE, video.pk, decision, reason)
        assert response.status_code == 302 and response["Location"] == f"{QUEUE}{video.pk}/change/"
    messages = moderator_client.get(f"{QUEUE}{video.pk}/change/").content.decode()
    assert "Nothing was decided" in messages
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE
    assert not AuditEntry.objects.exists()
    assert moderator_client.get(f"{QUEUE}{video.pk}/decide/").status_code == 405


def test_an_item_decided_by_a_colleague_meanwhile_is_skipped_not_decided_twice(moderator, moderator_client):
    done, waiting = VideoFactory(), VideoFactory()
    reported(done, 2), reported(waiting, 1)
    decide(moderator_client, QUEUE, done.pk, "remove", "illegal")
    response = decide(moderator_client, QUEUE, done.pk, "keep_visible", "stale tab")
    assert response["Location"] == f"{QUEUE}{waiting.pk}/change/"
    assert Video.objects.get(pk=done.pk).moderation == Moderation.REMOVED
    assert AuditEntry.objects.filter(action=AuditAction.VIDEO_RESTORE).count() == 0


def test_a_staff_user_outside_the_moderators_group_cannot_decide(db):
    from tests.helpers.moderation import admin_client_for

    video = VideoFactory()
    reported(video, 1)
    client = admin_client_for(UserFactory(is_staff=True))
    assert decide(client, QUEUE, video.pk, "hide", "nope").status_code == 403
    assert Video.objects.get(pk=video.pk).moderation == Moderation.VISIBLE


def test_a_reported_comment_is_shown_with_its_video_poster_and_the_comments_around_it(moderator_client):
    video = VideoFactory(caption="cooking show")
    thread = [CommentFactory(video=video, text=f"comment number {i}") for i in range(9)]
    reported(thread[4], 2, reason="harassment")
    row = moderator_client.get(COMMENT_QUEUE).content.decode()
    assert f"processed/{video.id}/poster.jpg" in row
    assert "before: comment number 3" in row and "after: comment number 5" in row

    page = moderator_client.get(f"{COMMENT_QUEUE}{thread[4].pk}/change/").content.decode()
    shown = re.findall(r"comment number (\d)", page)
    assert shown[:7] == ["1", "2", "3", "4", "5", "6", "7"]  # three either side, in order
    assert "comment number 0" not in page and "comment number 8" not in page
    assert "cooking show" in page and f"processed/{video.id}/poster.jpg" in page

    response = decide(moderator_client, COMMENT_QUEUE, thread[4].pk, "remove_comments", "abuse")
    assert response["Location"] == COMMENT_QUEUE
    thread[4].refresh_from_db()
    assert thread[4].state == CommentState.REMOVED


def test_a_quarantined_video_plays_for_moderators_through_signed_review_playlists(
    auth_client, clips, complete, moderator, moderator_client, run_on_commit
):
    video_id = upload(auth_client, clips.small)
    complete(auth_client, video_id)
    video = Video.objects.get(id=video_id)
    reported(video, 1)
    with run_on_commit():  # the quarantine task moves the media to private keys
        video_moderate(video=video, moderation=Moderation.HIDDEN, actor=None, reason="automatic")
    body = moderator_client.get(f"{QUEUE}{video.pk}/change/").content.decode()
    master_url = re.search(r'class="review-player" data-hls-src="([^"]+)"', body).group(1)
    assert master_url == f"{QUEUE}{video.pk}/review/{video.hls_master_key.rsplit('/', 1)[1]}"

    master = moderator_client.get(master_url)
    assert master.status_code == 200 and master["Content-Type"] == "application/vnd.apple.mpegurl"
    variant_url = next(line for line in master.content.decode().splitlines() if line and not line.startswith("#"))
    variant = moderator_client.get(variant_url).content.decode()
    segments = [line for line in variant.splitlines() if line and not line.startswith("#")]
    assert segments and all(f"quarantine/{video.id}/processed/" in url for url in segments)
    first = requests.get(segments[0], timeout=10)
    assert first.status_code == 200 and first.content[:1] == b"\x47"  # an MPEG-TS packet

    assert moderator_client.get(f"{QUEUE}{video.pk}/review/..%2F..%2Fsecret.m3u8").status_code == 404
    assert moderator_client.get(f"{QUEUE}{video.pk}/review/poster.jpg").status_code == 404
    from tests.helpers.moderation import admin_client_for

    assert admin_client_for(UserFactory(is_staff=True)).get(master_url).status_code == 403
