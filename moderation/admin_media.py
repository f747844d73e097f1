"""Videos played to moderators in the admin: the HLS source, the player element, and
signed copies of a quarantined video's playlists.

A visible video plays from the master URL viewers get (``videos.selectors.hls_url``). A
hidden or removed video's objects are quarantined (private), and HLS players resolve a
playlist's children relative to it without its signature: ``review_playlist`` serves
such a video's playlists with each child URI signed instead. The page plays them with
hls.js (vendored in ``moderation/static/moderation/vendor``; ``queue.js`` attaches it).
"""

from __future__ import annotations

import posixpath

import requests
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from videos.admin import media_url
from videos.models import Moderation, Video, VideoStatus
from videos.selectors import hls_url

REVIEW_PLAYLIST_URL_NAME = "admin:moderation_reportedvideo_review_playlist"
PLAYLIST_FETCH_TIMEOUT_SECONDS = 5


def _processed_prefix(video_id) -> str:
    return f"processed/{video_id}/"


def review_url(video: Video, key: str) -> str:
    """The admin URL of the signed copy of the video's playlist ``key``."""
    return reverse(REVIEW_PLAYLIST_URL_NAME, args=[video.id, key.removeprefix(_processed_prefix(video.id))])


def hls_source(video: Video) -> str | None:
    """The master playlist URL the admin plays: the viewers' one, or the signed review copy."""
    if video.status != VideoStatus.READY or not video.hls_master_key:
        return None
    if video.moderation == Moderation.VISIBLE:
        return hls_url(video_id=video.id, master_key=video.hls_master_key)
    return review_url(video, video.hls_master_key)


def player_html(video: Video, css_class: str) -> str:
    source = hls_source(video)
    if source is None:
        return f"Not playable ({video.get_status_display()})."
    return format_html(
        '<video class="{}" data-hls-src="{}" poster="{}" controls muted playsinline preload="none"></video>',
        css_class, source, media_url(video, video.poster.name) or "",
    )  # fmt: skip


def review_playlist(*, video_id, name: str) -> HttpResponse:
    """The playlist ``processed/<video_id>/<name>`` with its variants and segments signed.

    Only the video's own master and variant playlists are served (``Video.renditions``),
    and only children under its processed prefix are signed.
    """
    video = Video.objects.filter(pk=video_id).first()
    prefix = _processed_prefix(video_id)
    playlists = {video.hls_master_key, *(r.get("playlist_key") for r in video.renditions or [])} if video else set()
    key = prefix + name
    if key not in playlists:
        raise Http404("No such playlist.")
    try:
        fetched = requests.get(media_url(video, key), timeout=PLAYLIST_FETCH_TIMEOUT_SECONDS)
        fetched.raise_for_status()
    except requests.RequestException:
        return HttpResponse("The object store is unavailable.", status=503, content_type="text/plain")
    lines = []
    for line in fetched.text.splitlines():
        if line and not line.startswith("#"):
            child = posixpath.normpath(posixpath.join(posixpath.dirname(key), line))
            if child in playlists:
                line = review_url(video, child)
            elif child.startswith(prefix):
                line = media_url(video, child)
            else:
                raise Http404("The playlist points outside the video.")
        lines.append(line)
    return HttpResponse(
        "\n".join(lines) + "\n",
        content_type="application/vnd.apple.mpegurl",
        headers={"Cache-Control": "private, no-store"},
    )
