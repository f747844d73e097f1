"""Settings, schema, health, error shape and a real worker."""

import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from tests.helpers.stack import REPO, wait_until

pytestmark = pytest.mark.django_db

PRODUCTION_ENV = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 64 + "-production-secret-that-is-long-and-random-enough",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DATABASE_URL": "postgres://tiktok:secret@db.example.com:5432/tiktok",
    "AWS_ACCESS_KEY_ID": "key",
    "AWS_SECRET_ACCESS_KEY": "secret",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean | env, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_its_secret():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_tooling_apps_are_not_installed_in_production():
    local = manage("help", "--commands", env={})
    assert local.returncode == 0, local.stderr
    assert "seed_demo" in local.stdout.split()
    assert "seed_bench" not in local.stdout.split()
    production = manage("help", "--commands", env=PRODUCTION_ENV)
    assert production.returncode == 0, production.stderr
    assert not {"seed_demo", "seed_bench"} & set(production.stdout.split())


def test_passwords_are_hashed_with_argon2_outside_tests():
    from tiktok import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_openapi_schema_generates_without_warnings(tmp_path):
    result = manage(
        "spectacular",
        "--validate",
        "--fail-on-warn",
        "--file",
        str(tmp_path / "schema.yaml"),
        env={"DJANGO_SETTINGS_MODULE": "tests.settings"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    schema = (tmp_path / "schema.yaml").read_text()
    assert "/api/v1/auth/login" in schema


def test_schema_and_docs_are_served(api_client):
    assert api_client.get("/api/schema").status_code == 200
    docs = api_client.get("/api/docs")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_healthz_and_readyz_report_every_dependency(api_client):
    assert api_client.get("/healthz").json() == {"status": "ok"}
    ready = api_client.get("/readyz")
    assert ready.status_code == 200, ready.content
    body = ready.json()
    assert set(body["checks"]) >= {"primary", "replica", "redis_cache", "redis_durable", "store"}
    assert all(check["ok"] for check in body["checks"].values())


def test_unknown_path_and_wrong_method_use_the_error_shape(api_client, auth_client):
    missing = api_client.get("/api/v1/no-such-thing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong_method = auth_client.delete("/api/v1/me")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    anonymous = api_client.get("/api/v1/me")
    assert anonymous.status_code == 401
    assert set(anonymous.json()["error"]) == {"code", "message", "fields"}


def test_malformed_json_is_a_400_with_the_error_shape(api_client):
    response = api_client.post("/api/v1/auth/login", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_every_response_carries_a_request_id(api_client):
    response = api_client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert len(api_client.get("/healthz")["X-Request-ID"]) == 32


@pytest.mark.worker
def test_a_real_worker_process_runs_an_enqueued_task(celery_worker):
    from tiktok.tasks import last_worker_heartbeat, worker_heartbeat

    before = time.time()
    worker_heartbeat.delay()
    wait_until(lambda: (last_worker_heartbeat() or 0) >= before, timeout=30, message="heartbeat from the worker")
    assert "worker_heartbeat" in celery_worker.log_path.read_text()
    assert settings.CELERY_TASK_ACKS_LATE
