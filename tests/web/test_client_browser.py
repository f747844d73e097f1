"""The web client at ``/`` in a real browser, used the way two people use it.

Headless Chromium (Selenium) on a phone-sized viewport against ``live_server`` and a
real Celery worker: one person signs up and uploads a real clip from the file input
(straight to the store with the presigned PUT, then processing until ready); another
signs up, follows them, watches the clip play in their Following feed, likes it and
comments; the first finds both in the inbox behind the unread badge, then logs out.

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages ``chromium`` and
``chromium-driver``). Screenshots land in test-artifacts/web/ (feed, comments sheet,
upload progress); docs/img/web-client.png is a copy of the feed's.
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from tests.helpers.stack import REPO, wait_until
from tiktok.storage import s3_client
from web.bucket_cors import bucket_cors_apply

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = REPO / "test-artifacts" / "web"
PHONE = (390, 844)
HAVE_CURRENT_DATA = 2  # HTMLMediaElement.readyState: the current frame is decoded
PASSWORD = "a-long-enough-password-9"


def new_browser(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_window_size(*PHONE)
    driver.implicitly_wait(5)
    return driver


@pytest.fixture
def browsers(tmp_path):
    """A factory of independent browser sessions (separate profiles: separate people)."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} missing: install the Debian packages chromium and chromium-driver"
            " (bin/stack install does it) to run the browser test.",
            pytrace=False,
        )
    with ExitStack() as stack:

        def make(name: str):
            profile = tmp_path / f"profile-{name}"
            driver = new_browser(profile)
            stack.callback(shutil.rmtree, profile, ignore_errors=True)
            stack.callback(driver.quit)
            return driver

        yield make


@pytest.fixture
def clip(tmp_path) -> Path:
    """A real portrait clip with sound, made with ffmpeg."""
    path = tmp_path / "sunset.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=360x640:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)],
        check=True,
        timeout=60,
    )  # fmt: skip
    return path


def by_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def sign_up(driver, base: str, username: str) -> None:
    driver.get(f"{base}/#/signup")
    by_css(driver, "#f-username").send_keys(username)
    by_css(driver, "#f-password").send_keys(PASSWORD)
    by_css(driver, "form.auth button[type=submit]").click()
    wait_until(lambda: driver.current_url.endswith("#/following"), timeout=15, message=f"{username} signed in")
    wait_until(lambda: by_css(driver, "#logout").is_displayed(), timeout=10, message="the signed-in header")


def go(driver, base: str, fragment: str) -> None:
    driver.get(f"{base}/{fragment}")


def playback(driver, video_id: str) -> list:
    return driver.execute_script(
        "const v = document.querySelector(`article.card[data-video-id='${arguments[0]}'] video`);"
        " return v ? [v.readyState, v.currentTime, v.paused, v.dataset.playerError || null] : null",
        video_id,
    )


def severe_console_messages(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def shoot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_people_upload_follow_watch_like_comment_and_get_notified(
    browsers, live_server, celery_worker, clip, settings
):
    from selenium.webdriver.common.keys import Keys

    base = live_server.url
    settings.API_PUBLIC_BASE_URL = base  # direct mode (no CDN): playlists come from here
    # The presigned PUT goes to the store, another origin: it allows this client's origin.
    bucket_cors_apply(s3_client(), bucket=settings.AWS_STORAGE_BUCKET_NAME, origins=[base])

    maya, leo = browsers("maya"), browsers("leo")
    sign_up(maya, base, "maya")
    sign_up(leo, base, "leo")

    # Leo finds Maya with the search and follows her from her profile.
    def found():
        go(leo, base, "#/search?q=maya&type=users")
        leo.refresh()
        return wait_until(lambda: all_css(leo, ".results p, .results li"), timeout=10, message="results") and [
            link for link in all_css(leo, ".results li a") if "@maya" in link.text
        ]

    wait_until(found, timeout=30, interval=0.5, message="Maya in the search results")[0].click()
    wait_until(lambda: leo.current_url.endswith("#/u/maya"), timeout=10, message="Maya's profile")
    follow = by_css(leo, ".profile-actions button.primary")
    assert follow.text == "Follow"
    follow.click()
    wait_until(lambda: follow.get_attribute("aria-pressed") == "true", timeout=10, message="follow")
    assert follow.text == "Following"

    # Maya uploads a clip from the file input and waits for it to be ready.
    go(maya, base, "#/upload")
    by_css(maya, "#f-file").send_keys(str(clip))
    by_css(maya, "#f-caption").send_keys("Golden hour run #sunset")
    by_css(maya, "form.upload button[type=submit]").click()
    wait_until(
        lambda: by_css(maya, "form.upload").get_attribute("data-stage") in ("processing", "ready"),
        timeout=30,
        message="the bytes to reach the store",
    )
    size_mb = f"{clip.stat().st_size / 1048576:.1f} MB"
    assert by_css(maya, ".upload-bytes").text == f"{size_mb} of {size_mb} sent (100%)"
    shoot(maya, "upload-progress.png")
    wait_until(
        lambda: by_css(maya, "form.upload").get_attribute("data-stage") in ("ready", "failed"),
        timeout=120,
        message="processing",
    )
    assert by_css(maya, ".upload-status").text.startswith("Ready!"), by_css(maya, ".upload-status").text
    video_id = by_css(maya, ".upload-status a").get_attribute("href").rsplit("/", 1)[1]

    # Leo's Following feed shows the clip, and it plays.
    def clip_in_feed():
        go(leo, base, "#/following")
        leo.refresh()
        return wait_until(lambda: all_css(leo, "article.card"), timeout=10, message="a card") and all_css(
            leo, f"article.card[data-video-id='{video_id}']"
        )

    wait_until(clip_in_feed, timeout=60, interval=1, message="the clip in Leo's Following feed")
    card = by_css(leo, f"article.card[data-video-id='{video_id}']")
    assert "Golden hour run #sunset" in card.text and "@maya" in card.text

    def decoded():
        state = playback(leo, video_id)
        assert state[3] is None, f"player error: {state}"
        return state[0] >= HAVE_CURRENT_DATA

    wait_until(decoded, timeout=30, interval=0.2, message=f"readyState >= {HAVE_CURRENT_DATA}")
    first = playback(leo, video_id)[1]
    wait_until(lambda: playback(leo, video_id)[1] > first, timeout=15, interval=0.2, message="currentTime to advance")
    assert not playback(leo, video_id)[2]  # playing, not paused

    # Like from the card.
    like = card.find_element("css selector", "button.action.like")
    assert like.get_attribute("aria-pressed") == "false"
    like.click()
    wait_until(lambda: like.get_attribute("aria-pressed") == "true", timeout=10, message="like")
    assert like.find_element("css selector", ".count").text == "1"

    # Comment in the comments sheet.
    card.find_element("css selector", "button.action.comments").click()
    sheet = by_css(leo, "dialog#comments")
    wait_until(lambda: sheet.get_attribute("open") is not None, timeout=5, message="the comments sheet")
    wait_until(lambda: "No comments yet" in sheet.text, timeout=10, message="the empty comments list")
    by_css(leo, "#comment-text").send_keys("Those colours are unreal")
    by_css(leo, "form.add-comment button[type=submit]").click()
    wait_until(lambda: all_css(leo, "dialog#comments li.comment"), timeout=10, message="the comment")
    mine = by_css(leo, "dialog#comments li.comment")
    assert "@leo" in mine.text and "Those colours are unreal" in mine.text
    assert mine.find_element("css selector", "button.delete").text == "Delete"  # own comment
    shoot(leo, "comments.png")
    by_css(leo, "#comment-text").send_keys(Keys.ESCAPE)
    wait_until(lambda: sheet.get_attribute("open") is None, timeout=5, message="the sheet to close")
    assert card.find_element("css selector", "button.action.comments .count").text == "1"
    shoot(leo, "feed.png")

    # Maya sees the unread badge (the worker writes the notifications after commit; the
    # page asks for the count when it loads), then the like and the comment in her inbox.
    def badge_count() -> int:
        badge = by_css(maya, "#unread")
        return int(badge.text) if badge.is_displayed() else 0

    def unread_badge():
        maya.refresh()
        try:
            return wait_until(lambda: badge_count() >= 2, timeout=10, interval=0.2, message="the count")
        except AssertionError:
            return False

    go(maya, base, "#/for-you")
    wait_until(unread_badge, timeout=90, interval=0.5, message="Maya's unread badge")
    by_css(maya, "a[data-nav=inbox]").click()
    wait_until(lambda: all_css(maya, "li.notification"), timeout=10, message="notifications")
    kinds = {item.get_attribute("data-kind"): item.text for item in all_css(maya, "li.notification")}
    assert "@leo liked your video" in kinds["like"]
    assert "@leo commented" in kinds["comment"] and "Those colours are unreal" in kinds["comment"]
    wait_until(lambda: not by_css(maya, "#unread").is_displayed(), timeout=10, message="the badge to clear")

    # Leo opens the hashtag from the caption, then mutes Maya from her profile.
    go(leo, base, f"#/video/{video_id}")
    by_css(leo, f"article.card[data-video-id='{video_id}'] .caption a").click()
    wait_until(lambda: all_css(leo, f".grid a[href='#/video/{video_id}']"), timeout=30, message="the #sunset page")
    assert by_css(leo, "main h1").text == "#sunset"
    go(leo, base, "#/u/maya")
    mute = wait_until(
        lambda: [button for button in all_css(leo, ".profile-actions button") if button.text == "Mute"],
        timeout=10,
        message="the Mute button",
    )[0]
    mute.click()
    wait_until(lambda: mute.get_attribute("aria-pressed") == "true", timeout=10, message="mute")
    assert mute.text == "Muted"

    # A reload keeps Maya signed in; logging out revokes the token and forgets it.
    maya.refresh()
    wait_until(lambda: by_css(maya, "#logout").is_displayed(), timeout=10, message="the signed-in header")
    token = maya.execute_script("return localStorage.getItem('tiktok.token')")
    assert requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).ok
    by_css(maya, "#logout").click()
    wait_until(lambda: maya.execute_script("return localStorage.getItem('tiktok.token')") is None, timeout=10)
    assert (
        requests.get(f"{base}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 401
    )
    wait_until(lambda: by_css(maya, "a.button[href='#/login']").is_displayed(), timeout=10, message="Log in")

    # No script errors and no Content-Security-Policy violations in either session.
    assert severe_console_messages(maya) == [] and severe_console_messages(leo) == []
