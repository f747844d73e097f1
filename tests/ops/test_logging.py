"""Structured logs: JSON lines with the request id, carried from a request into its tasks."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.stack import REPO, wait_until
from tiktok.logging import JsonFormatter, RequestIdFilter, request_id_var


def test_json_formatter_writes_one_object_per_line_with_the_request_id():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tests.ops.json")
    logger.addHandler(handler)
    logger.propagate = False
    token = request_id_var.set("abc123")
    try:
        logger.warning("first line\nsecond line %s", "arg")
        try:
            raise ValueError("broken")
        except ValueError:
            logger.exception("it failed")
    finally:
        request_id_var.reset(token)
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == "first line\nsecond line arg"
    assert first["request_id"] == "abc123" and first["level"] == "WARNING" and first["logger"] == "tests.ops.json"
    assert second["request_id"] == "abc123"
    assert "ValueError: broken" in second["exception"]


def _log_in_fresh_process(log_json: str) -> str:
    script = (
        "import django, logging; django.setup();"
        "from tiktok.logging import request_id_var; request_id_var.set('req-42');"
        "logging.getLogger('tests.ops').warning('hello %s', 'world')"
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "LOG_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "tiktok.settings", "LOG_JSON": log_json}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_log_json_makes_the_console_handler_write_json():
    entry = json.loads(_log_in_fresh_process("1"))
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-42"
    plain = _log_in_fresh_process("0")
    assert "[req-42] hello world" in plain
    with pytest.raises(json.JSONDecodeError):
        json.loads(plain)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_request_id_reaches_the_log_lines_of_the_tasks_it_enqueued(celery_worker):
    follower, creator = UserFactory(), UserFactory()
    client = client_for(follower)
    response = client.put(f"/api/v1/users/{creator.username}/follow", HTTP_X_REQUEST_ID="abc123")
    assert response.status_code == 200, response.content
    assert response["X-Request-ID"] == "abc123"

    def task_lines() -> list[str]:
        text = celery_worker.log_path.read_text()
        return [line for line in text.splitlines() if "feed.tasks.merge_creator_into_feed" in line and "abc123" in line]

    lines = wait_until(
        lambda: (found := task_lines()) and any("finished" in line for line in found) and found,
        timeout=30,
        message="the worker's log lines for the follow task",
    )
    assert any("started" in line for line in lines)
    assert any("finished: SUCCESS" in line for line in lines)
    # The worker logs through Django's LOGGING: every line carries a request id field.
    log = celery_worker.log_path.read_text()
    assert "[abc123] task feed.tasks.merge_creator_into_feed[" in log
