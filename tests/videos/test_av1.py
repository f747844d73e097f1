"""The AV1 ladder of a popular video: views past ``AV1_VIEW_THRESHOLD`` (counted by the
counter flush) encode AV1 renditions that the master lists beside the H.264 ones, which
a player can follow to the bytes; a takedown takes them away with the rest.

Real clips, ffmpeg with SVT-AV1, Redis counters and the S3 server: nothing is mocked.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
import requests

from activity.engagement.counters import counter_flush
from tests.helpers.av1 import popular_video, view_by
from tests.helpers.videos import bucket_keys
from videos import av1, store
from videos.models import Moderation, Video
from videos.services import video_set_moderation

pytestmark = pytest.mark.django_db

AV1_CODECS = re.compile(r'CODECS="av01\.0\.\d\d[MH]\.08,mp4a\.40\.2"')
AVC_CODECS = 'CODECS="avc1.4d401f,mp4a.40.2"'


def follow(url: str) -> list[bytes]:
    """Fetch a variant playlist and every object it names (init segment included)."""
    variant = requests.get(url, timeout=10)
    assert variant.status_code == 200, (url, variant.status_code)
    children = re.findall(r'URI="([^"]+)"', variant.text)
    children += [line for line in variant.text.splitlines() if line and not line.startswith("#")]
    bodies = []
    for child in children:
        response = requests.get(urljoin(url, child), timeout=10)
        assert response.status_code == 200, (child, response.status_code)
        bodies.append(response.content)
    return bodies


def test_popular_video_gets_an_av1_ladder_that_plays(
    auth_client, clips, complete, settings, django_capture_on_commit_callbacks
):
    video = popular_video(auth_client, clips.small, complete, django_capture_on_commit_callbacks, settings)

    names = [item["name"] for item in video.renditions]
    assert names == ["240p", "av1-240p"]
    master = store.read_bytes(video.hls_master_key).decode()
    assert AVC_CODECS in master and AV1_CODECS.search(master), master
    assert master.count("#EXT-X-STREAM-INF") == 2
    av1_entry = video.renditions[1]
    assert av1_entry["bandwidth"] >= av1_entry["average_bandwidth"] > 0

    # A player follows the card's URL (CDN or API) to the AV1 variant and its fMP4 bytes.
    card = auth_client.get(f"/api/v1/videos/{video.id}").json()
    master_text = requests.get(card["hls_url"], timeout=10).text
    variant_uri = next(line for line in master_text.splitlines() if line.startswith("av1-"))
    init, *segments = follow(urljoin(card["hls_url"], variant_uri))
    assert init[4:8] == b"ftyp" and b"av01" in init
    assert segments and all(b"moof" in segment[:200] for segment in segments)

    # A second run does nothing; views past the threshold do not encode again (the
    # crossing triggers once), even if the ladder were gone.
    assert av1.video_encode_av1(video_id=video.id) == []
    assert Video.objects.get(pk=video.id).hls_master_key == video.hls_master_key
    Video.objects.filter(pk=video.id).update(renditions=video.renditions[:1])
    view_by(2, str(video.id), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        counter_flush()
    assert [item["name"] for item in Video.objects.get(pk=video.id).renditions] == ["240p"]


def test_takedown_removes_the_av1_ladder(auth_client, clips, complete, settings, django_capture_on_commit_callbacks):
    video = popular_video(auth_client, clips.small, complete, django_capture_on_commit_callbacks, settings)
    av1_prefix = f"{store.processed_prefix(video_id=video.id)}av1-240p/"
    assert any(key.endswith("init.mp4") for key in bucket_keys(av1_prefix))

    with django_capture_on_commit_callbacks(execute=True):
        video_set_moderation(video_id=video.id, moderation=Moderation.REMOVED, final=True)
    assert bucket_keys(av1_prefix) == []
    assert bucket_keys(store.quarantine_prefix(video_id=video.id) + av1_prefix)  # kept for an appeal

    # Taken down before the encode ran: nothing is encoded.
    Video.objects.filter(pk=video.id).update(renditions=video.renditions[:1])
    assert av1.video_encode_av1(video_id=video.id) == []
