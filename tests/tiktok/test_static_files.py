"""Static files (the admin's stylesheets and scripts, the vendored HLS player) come from
the web process itself through WhiteNoise: straight from the apps locally and in tests,
and in production from what ``collectstatic`` wrote, hashed and compressed."""

import json
import os
import subprocess
import sys

from django.http import HttpResponse
from django.test import RequestFactory, override_settings
from whitenoise.middleware import WhiteNoiseMiddleware

from tests.helpers.stack import REPO

PRODUCTION_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_the_admin_stylesheet_and_the_player_are_served_without_a_collect_step(client):
    css = client.get("/static/admin/css/base.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css")
    assert b"--header-bg" in body(css)
    player = client.get("/static/moderation/vendor/hls.min.js")
    assert player.status_code == 200 and player["Content-Type"].startswith("text/javascript")
    assert client.get("/static/admin/css/missing.css").status_code == 404


def test_production_serves_collected_files_hashed_compressed_and_cached_for_good(tmp_path):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tiktok.settings",
        "DJANGO_ENV": "production",
        "DJANGO_STATIC_ROOT": str(tmp_path),
        # As in docker/Dockerfile: production settings need these to load; nothing connects.
        "DJANGO_SECRET_KEY": "test-only-collectstatic-not-a-secret-0123456789abcdefghijkl",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": "postgres://build:build@build.invalid:5432/build",
        "AWS_ACCESS_KEY_ID": "build",
        "AWS_SECRET_ACCESS_KEY": "build",
        "PROMETHEUS_MULTIPROC_DIR": "",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    stylesheet, player = paths["admin/css/base.css"], paths["moderation/vendor/hls.min.js"]
    assert stylesheet != "admin/css/base.css" and (tmp_path / f"{stylesheet}.gz").exists()
    assert (tmp_path / f"{player}.gz").exists()

    with override_settings(STATIC_ROOT=str(tmp_path), WHITENOISE_USE_FINDERS=False, STORAGES=PRODUCTION_STORAGES):
        middleware = WhiteNoiseMiddleware(lambda request: HttpResponse(status=404))
        response = middleware(RequestFactory().get(f"/static/{stylesheet}", HTTP_ACCEPT_ENCODING="gzip"))
        unhashed = middleware(RequestFactory().get("/static/admin/css/base.css"))
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"] and "max-age=315360000" in response["Cache-Control"]
    assert unhashed.status_code == 200 and "immutable" not in unhashed["Cache-Control"]
