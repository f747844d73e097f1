"""Players choose right, in a real browser: headless Chromium (Selenium) plays a popular
video's master playlist with hls.js. Chromium decodes AV1, so hls.js picks the AV1
rendition; a client that cannot (``MediaSource.isTypeSupported`` refusing ``av01``, as
on an old device) keeps to H.264 and still plays.

Needs /usr/bin/chromium and /usr/bin/chromedriver (see tests/moderation/test_browser.py).
"""

from __future__ import annotations

import pytest

from tests.helpers.av1 import popular_video

# Loads the app's hls.js, plays ``src`` muted and answers once a frame is decoded and
# time advances: the codec of the level playing, every level's codec, AV1 support.
PLAY = """
const [src, avcOnly, done] = arguments;
if (avcOnly) {
  const real = MediaSource.isTypeSupported.bind(MediaSource);
  MediaSource.isTypeSupported = (type) => !/av01/.test(type) && real(type);
}
const script = document.createElement("script");
script.src = "/static/moderation/vendor/hls.min.js";
script.onerror = () => done({error: "hls.js did not load"});
script.onload = () => {
  const video = document.createElement("video");
  video.muted = true;
  document.body.appendChild(video);
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (event, data) => { if (data.fatal) done({error: data.details}); });
  hls.loadSource(src);
  hls.attachMedia(video);
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
  const poll = setInterval(() => {
    if (video.readyState >= 2 && video.currentTime > 0 && hls.currentLevel >= 0) {
      clearInterval(poll);
      done({
        playing: hls.levels[hls.currentLevel].videoCodec,
        levels: hls.levels.map((level) => level.videoCodec),
        av1Supported: MediaSource.isTypeSupported('video/mp4; codecs="av01.0.05M.08"'),
      });
    }
  }, 100);
};
document.head.appendChild(script);
"""


@pytest.fixture
def popular_hls_url(live_server, settings, auth_client, clips, complete, django_capture_on_commit_callbacks):
    settings.CDN_BASE_URL = ""  # playlists from the API, segments presigned: same origin as the page
    settings.CDN_PURGE_BACKEND = "none"
    settings.API_PUBLIC_BASE_URL = live_server.url
    video = popular_video(auth_client, clips.small, complete, django_capture_on_commit_callbacks, settings)
    assert [item["name"] for item in video.renditions] == ["240p", "av1-240p"]
    return auth_client.get(f"/api/v1/videos/{video.id}").json()["hls_url"]


def play(driver, live_server, hls_url: str, *, avc_only: bool) -> dict:
    driver.set_script_timeout(40)
    driver.get(f"{live_server.url}/static/moderation/vendor/hls.min.js")  # any page of the origin
    return driver.execute_async_script(PLAY, hls_url, avc_only)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_chromium_plays_the_av1_rendition(browser, live_server, popular_hls_url):  # noqa: F811
    result = play(browser, live_server, popular_hls_url, avc_only=False)
    assert result.get("av1Supported") is True, result
    assert result["playing"].startswith("av01."), result


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_an_h264_only_player_still_plays(browser, live_server, popular_hls_url):  # noqa: F811
    result = play(browser, live_server, popular_hls_url, avc_only=True)
    assert result.get("av1Supported") is False, result
    assert result["playing"].startswith("avc1."), result
    assert result["levels"] == ["avc1.4d401f"], result  # the AV1 level is not even offered
