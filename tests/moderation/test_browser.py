"""End to end in a real browser: a moderator hides a reported video from the report queue
in the admin (headless Chromium driven by Selenium against ``live_server``), and a
follower's already-built feed no longer shows it.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages ``chromium`` and
``chromium-driver``; ``bin/stack install`` installs them). No driver is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from moderation.models import AuditEntry, Report, ReportStatus
from moderation.services import moderators_group_ensure
from tests.conftest import REPO, client_for, wait_for_replica_to_catch_up, wait_until
from tests.factories import PASSWORD, FollowFactory, UserFactory, VideoFactory
from videos.models import Moderation, Video

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = REPO / "test-artifacts" / "report-queue.png"


@pytest.fixture
def browser(tmp_path):
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: install the Debian packages chromium and chromium-driver"
            " (bin/stack install does it) to run the browser test.",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
        "--window-size=1440,1000", f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "chromium-profile", ignore_errors=True)


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
    store.upload(poster, video.poster_key)


def feed_ids(client) -> list[str]:
    response = client.get("/api/v1/feed")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.mark.django_db(transaction=True)
def test_moderator_hides_a_reported_video_in_the_admin_and_it_leaves_a_followers_feed(browser, live_server, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    moderator = UserFactory(username="moderator", is_staff=True)
    moderator.groups.add(moderators_group_ensure())
    creator, follower = UserFactory(username="creator"), UserFactory(username="follower")
    FollowFactory(follower=follower, followee=creator)
    video = VideoFactory(owner=creator, caption="Totally legit giveaway, click the link")
    calm = VideoFactory(owner=creator, caption="A calm sunset")
    for reason in ("spam", "spam", "misinformation"):
        Report.objects.create(video=video, reporter=UserFactory(), reason=reason, details="scam link")
    Report.objects.create(video=calm, reporter=UserFactory(), reason="other")
    upload_poster(video, tmp_path, "testsrc2")
    upload_poster(calm, tmp_path, "smptebars")

    # The follower's feed exists before the decision: the test proves read-time removal.
    wait_for_replica_to_catch_up()
    follower_client = client_for(follower)
    assert set(feed_ids(follower_client)) == {str(video.id), str(calm.id)}

    browser.get(f"{live_server.url}/admin/login/?next=/admin/")
    browser.find_element(By.NAME, "username").send_keys(moderator.username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    wait_until(lambda: "/admin/login/" not in browser.current_url, timeout=10, message="login")

    browser.get(f"{live_server.url}/admin/moderation/reportedvideo/")
    rows = browser.find_elements(By.CSS_SELECTOR, "#result_list tbody tr")
    assert len(rows) == 2
    assert "Totally legit giveaway" in rows[0].text and "Spam ×2" in rows[0].text  # most reported first
    assert rows[0].find_elements(By.CSS_SELECTOR, "img.video-poster")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    browser.find_element(By.CSS_SELECTOR, f"input[name=_selected_action][value='{video.pk}']").click()
    Select(browser.find_element(By.NAME, "action")).select_by_value("hide")
    browser.find_element(By.CSS_SELECTOR, "button[name=index]").click()
    browser.find_element(By.NAME, "reason").send_keys("Scam link; reported by three users.")
    browser.find_element(By.NAME, "confirm").click()
    message = browser.find_element(By.CSS_SELECTOR, "ul.messagelist li").text
    assert "1 video(s) hidden" in message

    hidden = Video.objects.get(pk=video.pk)
    assert (hidden.moderation, hidden.moderation_final) == (Moderation.HIDDEN, True)
    assert set(Report.objects.filter(video=video).values_list("status", flat=True)) == {ReportStatus.RESOLVED}
    entry = AuditEntry.objects.get(action="video_hide")
    assert (entry.actor_id, entry.reason) == (moderator.pk, "Scam link; reported by three users.")
    wait_until(
        lambda: feed_ids(follower_client) == [str(calm.id)], timeout=10, message="the hidden video to leave the feed"
    )
