"""Bad input to the media pipeline: lying headers, playlists posing as videos, frame-rate
and picture-size limits, and the bounds every ffmpeg run carries. Real clips and ffmpeg."""

import json
import subprocess
from unittest import mock

import pytest

from tests.helpers.videos import bucket_keys, upload, video_keys
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db


def process(auth_client, complete, path) -> Video:
    video_id = upload(auth_client, path)
    with mock.patch("videos.services.video_published") as published:
        assert complete(auth_client, video_id).status_code == 200
    video = Video.objects.get(id=video_id)
    if video.status == VideoStatus.FAILED:
        published.assert_not_called()
        assert video_keys(video) == [] and bucket_keys(f"processed/{video.id}/") == []
    return video


def header_duration(path) -> float:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", str(path)],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return float(json.loads(result.stdout)["format"]["duration"])


def test_a_clip_whose_header_claims_5_s_but_plays_75_s_is_rejected_as_too_long(auth_client, clips, complete):
    assert header_duration(clips.liar) == pytest.approx(5.0)  # what the old check trusted
    video = process(auth_client, complete, clips.liar)
    assert video.status == VideoStatus.FAILED
    assert video.failure_reason == "Video is more than 62 s long; the limit is 60 s."


def test_a_clip_just_over_the_limit_reports_its_decoded_length(auth_client, clips, complete):
    video = process(auth_client, complete, clips.long)
    assert (video.status, video.failure_reason) == (VideoStatus.FAILED, "Video is 61.0 s long; the limit is 60 s.")


@pytest.mark.parametrize(
    "playlist",
    [
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\nfile://{path}\n#EXT-X-ENDLIST\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{path}\n#EXT-X-ENDLIST\n",
        "ffconcat version 1.0\nfile '{path}'\n",
    ],
    ids=["hls-file-url", "hls-path", "concat"],
)
def test_a_playlist_uploaded_as_a_video_cannot_make_ffmpeg_read_another_file(
    auth_client, clips, complete, tmp_path, playlist
):
    # Points at a real clip on the worker's disk: without the demuxer and protocol
    # whitelists ffmpeg would publish that file's content as this video.
    fake = tmp_path / "playlist.mp4"
    fake.write_text(playlist.format(path=clips.small))
    video = process(auth_client, complete, fake)
    assert (video.status, video.failure_reason) == (VideoStatus.FAILED, "Not a video file.")


def test_a_frame_rate_above_the_limit_is_rejected(auth_client, clips, complete):
    video = process(auth_client, complete, clips.fast)
    assert video.status == VideoStatus.FAILED
    assert video.failure_reason == "The frame rate is above the limit of 120 frames per second."


def test_a_picture_larger_than_the_limits_is_rejected(auth_client, clips, complete, settings):
    settings.VIDEO_MAX_DIMENSION = 300
    video = process(auth_client, complete, clips.small)  # 320x240
    assert video.status == VideoStatus.FAILED
    assert video.failure_reason.startswith("Video is 320x240; the limit is 300 pixels a side")

    settings.VIDEO_MAX_DIMENSION = 4096
    settings.VIDEO_MAX_PIXELS = 320 * 240 - 1
    video = process(auth_client, complete, clips.small)
    assert (video.status, video.failure_reason[:17]) == (VideoStatus.FAILED, "Video is 320x240;")


def test_every_ffmpeg_run_reads_only_local_files_of_the_accepted_formats_for_a_bounded_time(
    auth_client, clips, complete
):
    commands = []
    real_run = subprocess.run

    def record(command, *args, **kwargs):
        commands.append(command)
        assert kwargs.get("timeout"), command
        return real_run(command, *args, **kwargs)

    with mock.patch("videos.media.subprocess.run", side_effect=record):
        video = process(auth_client, complete, clips.hd)
    assert video.status == VideoStatus.READY, video.failure_reason
    assert video.duration == pytest.approx(2.0, abs=0.2)
    programs = [command[0] for command in commands]
    assert "ffprobe" in programs and programs.count("ffmpeg") >= 3  # measure, poster, renditions
    for command in commands:
        before_input = command[: command.index("-i")] if "-i" in command else command
        assert before_input[before_input.index("-protocol_whitelist") + 1] == "file"
        assert "hls" not in before_input[before_input.index("-format_whitelist") + 1].split(",")
        if command[0] == "ffmpeg":
            seconds = float(before_input[before_input.index("-t") + 1])
            assert 60 < seconds <= 62  # the limit, plus at most the measuring margin
            assert "-max_pixels" in before_input
