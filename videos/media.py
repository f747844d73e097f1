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
SEGMENT_SECONDS = 2
MAX_FRAME_RATE = 30
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
    return subprocess.run(command, capture_output=True, text=True, timeout=_timeout(), check=False)


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
    """Read the clip's streams; reject what is not a video or is too long."""
    result = _run(["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)])
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
    if abs(_rotation(video)) % 180 == 90:
        width, height = height, width
    duration = _duration(info, video)
    if duration is None or duration <= 0:
        raise MediaRejectedError("The video's length could not be read; the file may be damaged.")
    limit = settings.VIDEO_MAX_DURATION_SECONDS
    if duration > limit + 0.05:  # container rounding
        raise MediaRejectedError(f"Video is {duration:.1f} s long; the limit is {limit:g} s.")
    return ProbeResult(
        duration=round(duration, 3),
        width=width,
        height=height,
        frame_rate=_frame_rate(video.get("avg_frame_rate")) or _frame_rate(video.get("r_frame_rate")),
        has_audio=any(s.get("codec_type") == "audio" for s in streams),
    )


def _is_cover_art(stream: dict) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


def _duration(info: dict, video: dict) -> float | None:
    for value in (info.get("format", {}).get("duration"), video.get("duration")):
        try:
            duration = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(duration):
            return duration
    return None


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
    filters = [f"scale={plan.width}:{plan.height}"]
    if probe_result.frame_rate > MAX_FRAME_RATE:
        filters.append(f"fps={MAX_FRAME_RATE}")
    filters.append("format=yuv420p")
    command = [
        "ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(source),
        "-map", "0:v:0", "-map", "0:a:0?", "-vf", ",".join(filters),
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
