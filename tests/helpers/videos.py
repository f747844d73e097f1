"""Videos for tests: rendered clips, uploads through the API, objects in the bucket."""

from __future__ import annotations

import struct
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from django.conf import settings
from django.utils import timezone

from videos.models import Video, VideoStatus


@dataclass(frozen=True)
class Clips:
    small: Path  # 320x240, 2 s, with audio: below the lowest rung
    hd: Path  # 1280x720, 2 s, with audio: both renditions
    medium: Path  # 640x360, 2 s, no audio
    long: Path  # 64x64 at 5 fps, 61 s: too long
    noise: Path  # random bytes
    truncated: Path  # the first part of an MP4 (damaged)
    liar: Path  # 64x64 at 5 fps, plays 75 s, but its MP4 header says 5 s
    fast: Path  # 64x64 at 240 fps, 1 s: above the frame-rate limit


def render_lowres(destination: Path, *, seconds: float, rate: int) -> Path:
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=64x64:rate={rate}",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(destination),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip
    return destination


def mp4_claiming_duration(source: Path, destination: Path, *, seconds: float) -> Path:
    """Copy an MP4, rewriting the durations in its headers (``mvhd``, ``tkhd``, ``mdhd``).

    The samples are untouched, so the clip still plays as long as it did: only what the
    container claims changes (what ffprobe's format and stream durations report).
    """
    data = bytearray(source.read_bytes())
    movie_timescale = 1000

    def walk(start: int, end: int) -> None:
        nonlocal movie_timescale
        position = start
        while position + 8 <= end:
            size, kind = struct.unpack(">I4s", data[position : position + 8])
            if size < 8:
                return
            if kind in (b"moov", b"trak", b"mdia"):
                walk(position + 8, position + size)
            elif kind in (b"mvhd", b"tkhd", b"mdhd"):
                version = data[position + 8]
                body = position + 12  # after size, type, version and flags
                times = 8 if version == 0 else 16  # creation and modification times
                if kind == b"tkhd":
                    offset, timescale = body + times + 8, movie_timescale  # after track id, reserved
                else:
                    (timescale,) = struct.unpack(">I", data[body + times : body + times + 4])
                    offset = body + times + 4
                    if kind == b"mvhd":
                        movie_timescale = timescale
                struct.pack_into(">I" if version == 0 else ">Q", data, offset, int(seconds * timescale))
            position += size

    walk(0, len(data))
    destination.write_bytes(bytes(data))
    return destination


def start_upload(client, path: Path | None = None, *, content_type="video/mp4", size_bytes=None, caption="hello"):
    """POST /videos for a file (or just a declared size); returns the response."""
    size = size_bytes if size_bytes is not None else path.stat().st_size
    return client.post(
        "/api/v1/videos", {"caption": caption, "content_type": content_type, "size_bytes": size}, format="json"
    )


def put_file(upload: dict, path: Path, *, content_type: str | None = None) -> None:
    headers = dict(upload["headers"])
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = requests.put(upload["url"], data=path.read_bytes(), headers=headers, timeout=30)
    assert response.status_code == 200, response.text


def upload(client, path: Path, **kwargs) -> str:
    """Create an upload and PUT the file; returns the video id (not yet completed)."""
    response = start_upload(client, path, **kwargs)
    assert response.status_code == 201, response.content
    body = response.json()
    put_file(body["upload"], path)
    return body["id"]


def bucket_keys(prefix: str) -> list[str]:
    from tiktok.storage import s3_client

    keys = []
    paginator = s3_client().get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def video_keys(video) -> list[str]:
    """Every object of a video (original and processed)."""
    return bucket_keys(video.original_key) + bucket_keys(f"processed/{video.id}/")


def make_ready_video(owner, *, caption="ready", published_at=None, **fields) -> Video:
    """A processed video without running ffmpeg (for read tests)."""
    video_id = uuid.uuid4()
    fields.setdefault("status", VideoStatus.READY)
    return Video.objects.create(
        id=video_id,
        owner=owner,
        caption=caption,
        content_type="video/mp4",
        size_bytes=1000,
        upload_expires_at=timezone.now(),
        original_key=f"originals/{owner.pk}/{video_id}",
        poster=f"processed/{video_id}/poster.jpg",
        hls_master_key=f"processed/{video_id}/master-360p.m3u8",
        duration=3.0,
        width=640,
        height=360,
        published_at=published_at or timezone.now(),
        **fields,
    )
