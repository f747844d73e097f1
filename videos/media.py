"""Media work on local files: probing with ffprobe, posters and HLS renditions with ffmpeg.

Pure functions of files and numbers: no database, no object store. ``MediaRejectedError``
carries a reason the owner can read; anything else is a fault on our side.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from django.conf import settings

AUDIO_BITRATE = 96_000
# Container rounding allowed past VIDEO_MAX_DURATION_SECONDS.
DURATION_TOLERANCE_SECONDS = 0.05
# The length check decodes this much past the limit, never more, whatever the header says.
MEASURE_PAST_LIMIT_SECONDS = 2.0
SEGMENT_SECONDS = 2
# Renditions never play faster than this (a 60 fps source is halved).
OUTPUT_MAX_FRAME_RATE = 30
# Main profile, level 3.1 covers up to 1280x720 at 30 fps (frame rate is capped above).
VIDEO_CODEC = "avc1.4d401f"
AUDIO_CODEC = "mp4a.40.2"
# Formats ffprobe recognises that are still images, not videos.
_IMAGE_FORMATS = {"image2", "gif", "apng"}


def _is_image_format(format_name: str) -> bool:
    return any(name in _IMAGE_FORMATS or name.endswith("_pipe") for name in format_name.split(","))


class MediaRejectedError(Exception):
    """The upload cannot be published; ``reason`` is shown to its owner."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ProbeResult:
    duration: float
    width: int  # as displayed (rotation applied)
    height: int
    frame_rate: float
    has_audio: bool


@dataclass(frozen=True)
class RenditionPlan:
    name: str
    width: int
    height: int
    max_bitrate: int


@dataclass
class Rendition:
    """A finished rendition as stored in ``Video.renditions``."""

    name: str
    width: int
    height: int
    bandwidth: int
    average_bandwidth: int
    codecs: str
    playlist_key: str

    def as_dict(self) -> dict:
        return asdict(self)


def _timeout() -> int:
    # Stay inside the task's soft time limit with room for uploads.
    return max(int(settings.CELERY_TASK_SOFT_TIME_LIMIT) - 60, 60)


def _run(command: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=_timeout(), check=False)
    except subprocess.TimeoutExpired as exc:
        # Inputs are bounded in length, frame rate and size, so this is a pathological
        # file: retrying it would only burn the worker again.
        raise MediaRejectedError("The video could not be processed in time; the file may be damaged.") from exc


def _max_seconds() -> float:
    return settings.VIDEO_MAX_DURATION_SECONDS + DURATION_TOLERANCE_SECONDS


def _video_filter(plan: RenditionPlan, probe_result: ProbeResult) -> str:
    """A rung's ``-vf``: scaled to the rung, frame rate capped, 8-bit 4:2:0 (both codecs)."""
    filters = [f"scale={plan.width}:{plan.height}"]
    if probe_result.frame_rate > OUTPUT_MAX_FRAME_RATE:
        filters.append(f"fps={OUTPUT_MAX_FRAME_RATE}")
    filters.append("format=yuv420p")
    return ",".join(filters)


def _input_options(*, read_seconds: float | None = None) -> list[str]:
    """Options before ``-i`` for every ffmpeg run on an upload.

    Only local files and only the demuxers of the accepted types (an HLS or concat
    playlist uploaded as a video cannot make ffmpeg open other files or URLs), frames no
    larger than ``VIDEO_MAX_PIXELS`` (the decoder refuses them, whatever the header
    said), and at most ``read_seconds`` of media read (ffprobe only reads headers).
    """
    options = ["-protocol_whitelist", "file", "-format_whitelist", settings.VIDEO_INPUT_FORMATS]
    if read_seconds is not None:
        options += ["-max_pixels", str(settings.VIDEO_MAX_PIXELS), "-t", f"{read_seconds:.3f}"]
    return options


def _frame_rate(value: str | None) -> float:
    try:
        numerator, _, denominator = (value or "0/1").partition("/")
        rate = float(numerator) / float(denominator or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0
    return rate if math.isfinite(rate) else 0.0


def _rotation(stream: dict) -> int:
    for item in stream.get("side_data_list", []) or []:
        if "rotation" in item:
            return int(float(item["rotation"]))
    try:
        return int(float(stream.get("tags", {}).get("rotate", 0)))
    except ValueError:
        return 0


def probe(path: Path) -> ProbeResult:
    """Read the clip's streams and decode it; reject what is not a video or breaks a limit.

    The header gives the streams and the picture size; the length and frame rate are
    measured by decoding (``measure_decoded``), because a container header may lie.
    """
    command = ["ffprobe", "-v", "error", *_input_options(), "-print_format", "json", "-show_format", "-show_streams"]
    result = _run([*command, str(path)])
    if result.returncode != 0:
        raise MediaRejectedError("Not a video file.")
    try:
        info = json.loads(result.stdout or "{}")
    except json.JSONDecodeError as exc:
        raise MediaRejectedError("Not a video file.") from exc
    streams = info.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video" and not _is_cover_art(s)), None)
    format_name = info.get("format", {}).get("format_name", "")
    if video is None or _is_image_format(format_name):
        raise MediaRejectedError("Not a video file.")
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise MediaRejectedError("Not a video file.")
    _check_picture_size(width, height)
    if abs(_rotation(video)) % 180 == 90:
        width, height = height, width
    duration, frames = measure_decoded(path)
    _check_length_and_rate(duration=duration, frames=frames)
    return ProbeResult(
        duration=round(duration, 3),
        width=width,
        height=height,
        frame_rate=round(frames / duration, 3),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
    )


def _check_picture_size(width: int, height: int) -> None:
    side, pixels = settings.VIDEO_MAX_DIMENSION, settings.VIDEO_MAX_PIXELS
    if max(width, height) > side or width * height > pixels:
        raise MediaRejectedError(
            f"Video is {width}x{height}; the limit is {side} pixels a side and {pixels / 1e6:.1f} megapixels."
        )


def measure_decoded(path: Path) -> tuple[float, int]:
    """(seconds, video frames) as ffmpeg decodes them: the first video and audio streams.

    Bounded whatever the file claims: at most ``MEASURE_PAST_LIMIT_SECONDS`` past the
    duration limit is read (``-t``), at most one frame past what the frame-rate limit
    allows over that time is decoded (``-frames:v``), and the run has a timeout. A
    result at either bound means the clip is over a limit.
    """
    read_seconds = settings.VIDEO_MAX_DURATION_SECONDS + MEASURE_PAST_LIMIT_SECONDS
    result = _run(
        [
            "ffmpeg", "-nostdin", "-v", "error", "-nostats", *_input_options(read_seconds=read_seconds),
            "-i", str(path), "-map", "0:v:0", "-map", "0:a:0?", "-fps_mode", "passthrough",
            "-frames:v", str(_frame_budget(read_seconds) + 1), "-f", "null", "-", "-progress", "pipe:1",
        ]
    )  # fmt: skip
    if result.returncode != 0:
        raise MediaRejectedError("The video could not be decoded; the file may be damaged.")
    progress: dict[str, str] = {}
    for line in result.stdout.splitlines():
        key, _, value = line.partition("=")
        progress[key.strip()] = value.strip()
    try:
        seconds = int(progress.get("out_time_us", "")) / 1_000_000
        frames = int(progress.get("frame", ""))
    except ValueError:
        seconds, frames = 0.0, 0
    return seconds, frames


def _frame_budget(seconds: float) -> int:
    return math.ceil(settings.VIDEO_MAX_FRAME_RATE * seconds)


def _check_length_and_rate(*, duration: float, frames: int) -> None:
    if duration <= 0 or frames <= 0:
        raise MediaRejectedError("The video's length could not be read; the file may be damaged.")
    limit = settings.VIDEO_MAX_DURATION_SECONDS
    read_seconds = limit + MEASURE_PAST_LIMIT_SECONDS
    if duration >= read_seconds:
        raise MediaRejectedError(f"Video is more than {read_seconds:g} s long; the limit is {limit:g} s.")
    if duration > _max_seconds():
        raise MediaRejectedError(f"Video is {duration:.1f} s long; the limit is {limit:g} s.")
    max_rate = settings.VIDEO_MAX_FRAME_RATE
    # One frame of slack: a clip's last frame may end just past its measured length.
    if frames > _frame_budget(read_seconds) or frames - 1 > max_rate * duration:
        raise MediaRejectedError(f"The frame rate is above the limit of {max_rate:g} frames per second.")


def _is_cover_art(stream: dict) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


def _even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def rendition_ladder() -> tuple[tuple[int, int], ...]:
    """``settings.VIDEO_RENDITION_LADDER``: (short side in pixels, peak video bits/s) rungs.

    A rendition is named after its short side ("360p"), which is the height for landscape
    clips and the width for portrait ones, so a vertical 1080x1920 phone clip gets 360x640
    and 720x1280.
    """
    return tuple(settings.VIDEO_RENDITION_LADDER)


def plan_renditions(*, width: int, height: int) -> list[RenditionPlan]:
    """Renditions for a source, lowest first; never larger than the source.

    A source smaller than the lowest rung gets one rendition at its own size.
    """
    short = min(width, height)
    ladder = rendition_ladder()
    rungs = [(target, bitrate) for target, bitrate in ladder if target <= short]
    if not rungs:
        rungs = [(short - short % 2 or 2, ladder[0][1])]
    plans = []
    for target, bitrate in rungs:
        scale = target / short
        plans.append(
            RenditionPlan(
                name=f"{target}p", width=_even(width * scale), height=_even(height * scale), max_bitrate=bitrate
            )
        )
    return plans


def make_poster(source: Path, destination: Path, *, probe_result: ProbeResult, plan: RenditionPlan) -> None:
    """A JPEG frame from early in the clip, at the size of the given rendition."""
    at = min(1.0, probe_result.duration / 3)
    result = _run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-ss",
            f"{at:.3f}",
            *_input_options(read_seconds=_max_seconds()),
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            f"scale={plan.width}:{plan.height}",
            "-q:v",
            "3",
            str(destination),
        ]
    )
    if result.returncode != 0 or not destination.exists() or destination.stat().st_size == 0:
        raise MediaRejectedError("The video could not be decoded; the file may be damaged.")


def transcode_hls(source: Path, directory: Path, *, plan: RenditionPlan, probe_result: ProbeResult) -> Path:
    """Transcode one rendition to HLS (H.264 + AAC, 2 s segments) in ``directory``.

    Returns the path of the variant playlist ``index.m3u8``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    playlist = directory / "index.m3u8"
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", *_input_options(read_seconds=_max_seconds()), "-i", str(source),
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", _video_filter(plan, probe_result),
        "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-level", "3.1", "-crf", "23",
        "-maxrate", str(plan.max_bitrate), "-bufsize", str(plan.max_bitrate * 2),
        "-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})", "-sc_threshold", "0",
        "-c:a", "aac", "-b:a", str(AUDIO_BITRATE), "-ac", "2", "-ar", "44100",
        "-threads", "2",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments",
        "-hls_segment_filename", str(directory / "seg_%03d.ts"), str(playlist),
    ]  # fmt: skip
    result = _run(command)
    if result.returncode != 0 or not playlist.exists():
        raise MediaRejectedError("The video could not be decoded; the file may be damaged.")
    return playlist


def transcode_hls_av1(
    source: Path,
    directory: Path,
    *,
    plan: RenditionPlan,
    probe_result: ProbeResult,
    preset: int,
    crf: int,
    max_bitrate: int,
) -> Path:
    """Transcode one rendition to CMAF HLS (SVT-AV1 + AAC in fMP4, 2 s segments).

    Constant quality (``crf``) capped at ``max_bitrate`` like the H.264 rung: without the
    cap, grainy high-motion clips come out larger than the capped H.264. Bounded like
    ``transcode_hls`` (same input options and timeout). Keyframes every ``SEGMENT_SECONDS``
    (no scene cuts), so segments align with the H.264 ones. Returns the variant playlist
    ``index.m3u8`` (``init.mp4`` and ``seg_NNN.m4s`` beside it).
    """
    directory.mkdir(parents=True, exist_ok=True)
    playlist = directory / "index.m3u8"
    rate = min(probe_result.frame_rate, OUTPUT_MAX_FRAME_RATE) or OUTPUT_MAX_FRAME_RATE
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", *_input_options(read_seconds=_max_seconds()), "-i", str(source),
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", _video_filter(plan, probe_result),
        "-c:v", "libsvtav1", "-preset", str(preset), "-crf", str(crf),
        "-maxrate", str(max_bitrate), "-bufsize", str(max_bitrate * 2),
        "-g", str(max(1, round(rate * SEGMENT_SECONDS))), "-svtav1-params", "scd=0:lp=2",
        "-c:a", "aac", "-b:a", str(AUDIO_BITRATE), "-ac", "2", "-ar", "44100",
        "-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod",
        "-hls_flags", "independent_segments", "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
        "-hls_segment_filename", str(directory / "seg_%03d.m4s"), str(playlist),
    ]  # fmt: skip
    result = _run(command)
    if result.returncode != 0 or not playlist.exists() or not (directory / "init.mp4").exists():
        raise MediaRejectedError("The video could not be encoded to AV1.")
    return playlist


def measure(playlist: Path) -> tuple[int, int]:
    """(peak, average) bits per second of a variant playlist's segments."""
    durations: list[float] = []
    peak = 0.0
    total_bytes = 0
    pending: float | None = None
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXTINF:"):
            pending = float(line[len("#EXTINF:") :].split(",")[0])
        elif line and not line.startswith("#") and pending is not None:
            size = (playlist.parent / line).stat().st_size
            total_bytes += size
            durations.append(pending)
            if pending > 0:
                peak = max(peak, size * 8 / pending)
            pending = None
    total = sum(durations)
    average = total_bytes * 8 / total if total > 0 else peak
    return int(math.ceil(peak or average)), int(math.ceil(average))


def codecs_for(probe_result: ProbeResult) -> str:
    return f"{VIDEO_CODEC},{AUDIO_CODEC}" if probe_result.has_audio else VIDEO_CODEC


def master_playlist(renditions: list[dict], *, master_key: str) -> str:
    """The HLS master playlist listing ``renditions`` (lowest bandwidth first).

    Variant URIs are relative to the master's key, so the same playlist works behind a
    CDN and straight from the bucket.
    """
    base = master_key.rsplit("/", 1)[0] + "/"
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in sorted(renditions, key=lambda item: item["bandwidth"]):
        uri = rendition["playlist_key"].removeprefix(base)
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition['bandwidth']},AVERAGE-BANDWIDTH={rendition['average_bandwidth']},"
            f'RESOLUTION={rendition["width"]}x{rendition["height"]},CODECS="{rendition["codecs"]}"'
        )
        lines.append(uri)
    return "\n".join(lines) + "\n"
