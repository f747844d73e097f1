"""Demo clips: short real videos, uploaded the way a client uploads them.

``render_clip`` writes an H.264/AAC clip from ffmpeg's test sources (the tests use it
for fixtures too). ``create_demo_video`` renders one, asks for an upload, PUTs the bytes
to the presigned URL and completes the upload. Processing then runs in the worker (or
inline when Celery runs eagerly), exactly as for a real upload.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import requests

from accounts.tokens import token_create
from videos import services

PATTERNS = {
    "testsrc": "testsrc=size={size}:rate={rate}",
    "testsrc2": "testsrc2=size={size}:rate={rate}",
    "smptebars": "smptebars=size={size}:rate={rate}",
    "mandelbrot": "mandelbrot=size={size}:rate={rate}",
}
DEMO_SIZE = "640x360"
DEMO_RATE = 25
UPLOAD_TIMEOUT_SECONDS = 60


def render_clip(
    destination: Path,
    *,
    seconds: float = 4,
    pattern: str = "testsrc",
    size: str = DEMO_SIZE,
    rate: int = DEMO_RATE,
    audio: bool = True,
) -> Path:
    """Write an H.264/AAC MP4 test clip to ``destination``."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern must be one of {', '.join(PATTERNS)}")
    command = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        PATTERNS[pattern].format(size=size, rate=rate),
    ]
    if audio:
        command += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    command += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    if audio:
        command += ["-c:a", "aac", "-b:a", "64k", "-shortest"]
    command += ["-movflags", "+faststart", str(destination)]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    return destination


def put_upload(upload: dict, path: Path) -> None:
    """PUT a file to a presigned upload (``{"url", "headers"}``), as a client does."""
    with path.open("rb") as body:
        response = requests.put(upload["url"], data=body, headers=upload["headers"], timeout=UPLOAD_TIMEOUT_SECONDS)
    response.raise_for_status()


def create_demo_video(
    *, owner, caption: str, seconds: float = 4, pattern: str = "testsrc", base_url: str | None = None
):
    """Render a clip and upload it for ``owner``; returns the video id (str).

    Without ``base_url`` the services are called in-process. With ``base_url`` (e.g.
    ``http://127.0.0.1:8000``) the whole upload goes through the running HTTP API with
    the owner's API token.
    """
    with tempfile.TemporaryDirectory(prefix="demo-video-") as directory:
        clip = render_clip(Path(directory) / "clip.mp4", seconds=seconds, pattern=pattern)
        size = clip.stat().st_size
        if base_url:
            return _upload_over_http(base_url.rstrip("/"), owner=owner, caption=caption, clip=clip, size=size)
        video, ticket = services.video_create_upload(
            owner=owner, caption=caption, content_type="video/mp4", size_bytes=size
        )
        put_upload({"url": ticket.url, "headers": ticket.headers}, clip)
        services.video_complete_upload(video_id=video.id, owner=owner)
        return str(video.id)


def _upload_over_http(base_url: str, *, owner, caption: str, clip: Path, size: int) -> str:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token_create(user=owner).token}"
    created = session.post(
        f"{base_url}/api/v1/videos",
        json={"caption": caption, "content_type": "video/mp4", "size_bytes": size},
        timeout=UPLOAD_TIMEOUT_SECONDS,
    )
    created.raise_for_status()
    body = created.json()
    put_upload(body["upload"], clip)
    completed = session.post(f"{base_url}/api/v1/videos/{body['id']}/complete", timeout=UPLOAD_TIMEOUT_SECONDS)
    completed.raise_for_status()
    return body["id"]
