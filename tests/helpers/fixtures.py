"""Fixtures more than one test area uses (loaded by the root conftest as a plugin)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from demo.clips import render_clip
from tests.helpers.videos import (
    Clips,
    mp4_claiming_duration,
    render_lowres,
)


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Clips:
    directory = tmp_path_factory.mktemp("clips")
    small = render_clip(directory / "small.mp4", seconds=2, pattern="testsrc2", size="320x240")
    hd = render_clip(directory / "hd.mp4", seconds=2, pattern="smptebars", size="1280x720")
    medium = render_clip(directory / "medium.mp4", seconds=2, pattern="testsrc", size="640x360", audio=False)
    long = render_lowres(directory / "long.mp4", seconds=61, rate=5)
    noise = directory / "noise.mp4"
    noise.write_bytes(os.urandom(64 * 1024))
    truncated = directory / "truncated.mp4"
    # Without its moov atom (faststart puts it first, so keep the header and cut the rest).
    truncated.write_bytes(b"\x00\x00\x00\x18ftypmp42" + medium.read_bytes()[4096:8192])
    liar = mp4_claiming_duration(
        render_lowres(directory / "long75.mp4", seconds=75, rate=5), directory / "liar.mp4", seconds=5
    )
    fast = render_lowres(directory / "fast.mp4", seconds=1, rate=240)
    return Clips(small=small, hd=hd, medium=medium, long=long, noise=noise, truncated=truncated, liar=liar, fast=fast)


@pytest.fixture
def complete(django_capture_on_commit_callbacks):
    """POST .../complete and run what it enqueues (eager Celery) as if it had committed."""

    def run(client, video_id: str):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/api/v1/videos/{video_id}/complete")

    return run


CHROMIUM = Path("/usr/bin/chromium")


CHROMEDRIVER = Path("/usr/bin/chromedriver")


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
