"""End to end in a real browser, as a moderator sees it: headless Chromium (Selenium)
against ``live_server`` loads the admin with its stylesheet, plays a really processed
reported video inline with hls.js, hides it with a reason from its page and lands on
the next item in the queue; a follower's already-built feed no longer shows it.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages ``chromium`` and
``chromium-driver``; ``bin/stack install`` installs them). No driver is downloaded.
The queue's screenshot is kept in test-artifacts/report-queue.png.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from moderation.models import AuditEntry, Report, ReportStatus
from moderation.roles import moderators_group_ensure
from tests.factories import PASSWORD, FollowFactory, UserFactory, VideoFactory
from tests.helpers.api import client_for
from tests.helpers.stack import REPO, wait_for_replica_to_catch_up, wait_until
from tests.helpers.videos import upload
from videos.models import Moderation, Video, VideoStatus

SCREENSHOT = REPO / "test-artifacts" / "report-queue.png"


def upload_poster(video, tmp_path: Path, pattern: str) -> None:
    """A real poster image in the store, so the queue shows it."""
    from videos import store

    poster = tmp_path / f"{video.pk}.jpg"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=size=320x568",
         "-frames:v", "1", str(poster)],
        check=True,
        timeout=30,
    )  # fmt: skip
    store.upload(poster, video.poster.name)


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


# The admin's base.css paints the header with --header-bg (#417690); without the
# stylesheet it is transparent.
ADMIN_HEADER_BACKGROUND = "rgb(65, 118, 144)"
HAVE_CURRENT_DATA = 2  # HTMLMediaElement.readyState: the current frame is decoded


def computed(browser, selector: str, prop: str) -> str:
    return browser.execute_script(
        "return getComputedStyle(document.querySelector(arguments[0])).getPropertyValue(arguments[1])", selector, prop
    )


def wait_for_frames(browser, selector: str) -> None:
    """Wait until the ``<video>`` at ``selector`` has decoded a frame, or fail with its error."""

    def ready():
        state = browser.execute_script(
            "const v = document.querySelector(arguments[0]);"
            " return v && [v.readyState, v.getAttribute('data-player'), v.getAttribute('data-player-error'),"
            " v.getAttribute('data-hls-src')]",
            selector,
        )
        assert state and not state[2], f"player error: {state}"
        return state[0] >= HAVE_CURRENT_DATA

    wait_until(ready, timeout=20, interval=0.2, message=f"{selector} to reach readyState >= {HAVE_CURRENT_DATA}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_moderator_watches_a_reported_video_in_the_styled_queue_hides_it_and_the_next_item_opens(
    browser, live_server, tmp_path, clips, settings
):
    from selenium.webdriver.common.by import By

    settings.API_PUBLIC_BASE_URL = live_server.url  # playlists served by the API (no CDN) come from here
    moderator = UserFactory(username="moderator", is_staff=True)
    moderator.groups.add(moderators_group_ensure())
    creator, follower = UserFactory(username="creator"), UserFactory(username="follower")
    FollowFactory(follower=follower, followee=creator)
    # A real clip, uploaded and processed (poster, HLS renditions) as the app does it.
    video_id = upload(client_for(creator), clips.small, caption="Totally legit giveaway, click the link")
    assert client_for(creator).post(f"/api/v1/videos/{video_id}/complete").status_code == 200
    video = wait_until(
        lambda: Video.objects.filter(id=video_id, status=VideoStatus.READY).first(), timeout=60, message="processing"
    )
    calm = VideoFactory(owner=creator, caption="A calm sunset")
    upload_poster(calm, tmp_path, "smptebars")
    for reason in ("spam", "spam", "misinformation"):
        Report.objects.create(video=video, reporter=UserFactory(), reason=reason, details="scam link")
    Report.objects.create(video=calm, reporter=UserFactory(), reason="other")

    # The follower's feed exists before the decision: the test proves read-time removal.
    wait_for_replica_to_catch_up()
    follower_client = client_for(follower)
    assert set(feed_ids(follower_client)) == {str(video.id), str(calm.id)}

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    assert computed(browser, "#header", "background-color") == ADMIN_HEADER_BACKGROUND  # base.css applies
    browser.find_element(By.NAME, "username").send_keys(moderator.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_until(lambda: "/admin/login/" not in browser.current_url, timeout=10, message="login")

    browser.get(f"{live_server.url}/admin/moderation/reportedvideo/")
    assert computed(browser, "#header", "background-color") == ADMIN_HEADER_BACKGROUND
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 2
    top = rows[0]
    assert "Totally legit giveaway" in top.text and "Spam ×2, Misinformation" in top.text  # most urgent first
    assert "creator" in top.text and "no prior removals" in top.text
    assert top.find_element(By.CSS_SELECTOR, "img.video-poster").get_property("naturalWidth") > 0
    wait_for_frames(browser, "#result_list tbody tr:first-child video.queue-player")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    top.find_element(By.LINK_TEXT, "Hide…").click()
    wait_for_frames(browser, "video.review-player")  # the item's page plays it too
    browser.find_element(By.NAME, "reason").send_keys("Scam link; reported by three users.")
    browser.find_element(By.CSS_SELECTOR, "#decision-form button[value=hide]").click()

    wait_until(lambda: f"/{calm.pk}/change/" in browser.current_url, timeout=10, message="the next item to open")
    assert "1 video(s) hidden" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist li").text
    assert "A calm sunset" in browser.find_element(By.ID, "content").text

    hidden = Video.objects.get(pk=video.pk)
    assert (hidden.moderation, hidden.moderation_final) == (Moderation.HIDDEN, True)
    assert set(Report.objects.filter(video=video).values_list("status", flat=True)) == {ReportStatus.RESOLVED}
    entry = AuditEntry.objects.get(action="video_hide")
    assert (entry.actor_id, entry.reason) == (moderator.pk, "Scam link; reported by three users.")
    wait_until(
        lambda: feed_ids(follower_client) == [str(calm.id)], timeout=10, message="the hidden video to leave the feed"
    )
