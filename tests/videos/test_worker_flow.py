"""The whole upload flow across processes: API, presigned PUT, a real Celery worker, the store."""

import json
import subprocess

import pytest

from tests.helpers.stack import wait_until
from tests.helpers.videos import bucket_keys, upload
from tiktok import db_router
from videos.models import Video, VideoStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]


def read_video(video_id: str) -> Video:
    with db_router.use_primary():
        return Video.objects.get(id=video_id)


def test_upload_is_processed_by_a_real_worker_and_plays(celery_worker, auth_client, clips):
    video_id = upload(auth_client, clips.hd, caption="from the worker")
    response = auth_client.post(f"/api/v1/videos/{video_id}/complete")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "processing"

    video = wait_until(
        lambda: (v := read_video(video_id)).status != VideoStatus.PROCESSING and v,
        timeout=60,
        message="the worker to process the video",
    )
    assert video.status == VideoStatus.READY, video.failure_reason
    assert (video.width, video.height) == (1280, 720)
    assert video.duration == pytest.approx(2.0, abs=0.2)
    assert video.published_at is not None

    # Publish fast, then improve: the follow-up task adds 720p and a new master.
    video = wait_until(
        lambda: len((v := read_video(video_id)).renditions) == 2 and v, timeout=60, message="the 720p rendition"
    )
    assert [r["name"] for r in video.renditions] == ["360p", "720p"]
    keys = bucket_keys(f"processed/{video_id}/")
    assert video.hls_master_key in keys and video.poster.name in keys
    assert any(key.startswith(f"processed/{video_id}/720p/") and key.endswith(".ts") for key in keys)

    # The API reads a replica, which may trail the worker's write briefly.
    card = wait_until(
        lambda: "master-360p-720p.m3u8" in (c := auth_client.get(f"/api/v1/videos/{video_id}").json())["hls_url"] and c,
        timeout=15,
        message="the card to list both renditions",
    )
    assert card["status"] == "ready" and card["caption"] == "from the worker"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", card["hls_url"]],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    streams = json.loads(probe.stdout)["streams"]
    heights = {stream.get("height") for stream in streams if stream["codec_type"] == "video"}
    assert heights == {360, 720}
    assert any(stream["codec_type"] == "audio" for stream in streams)
    assert "video_process" in celery_worker.log_path.read_text()
