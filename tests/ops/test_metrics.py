"""Prometheus metrics: /metrics, labels by route, feed and task instrumentation, multiprocess."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from prometheus_client import REGISTRY

from feed import pages as feed_pages
from tests.helpers.stack import REPO
from tiktok import metrics
from tiktok.celery import app


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@app.task(name="tests.ops.always_fails")
def always_fails():
    raise RuntimeError("boom")


@app.task(name="tests.ops.succeeds")
def succeeds():
    return 1


def test_metrics_are_served_in_the_prometheus_format(api_client):
    api_client.get("/healthz")
    response = api_client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    body = response.content.decode()
    for name in (
        "http_requests_total", "http_request_duration_seconds_bucket", "feed_request_duration_seconds_bucket",
        "feed_cache_events_total", "fanout_duration_seconds_bucket", "fanout_batches_total",
    ):  # fmt: skip
        assert f"\n{name}" in body, name
    assert 'http_requests_total{method="GET",route="healthz",status="200"}' in body
    assert 'feed_cache_events_total{event="degraded"}' in body


@pytest.mark.django_db
def test_requests_are_labelled_by_url_pattern_name_not_path(api_client):
    before = sample("http_requests_total", method="GET", route="user-detail", status="404")
    before_unmatched = sample("http_requests_total", method="GET", route="unmatched", status="404")
    for username in ("nobody-1", "nobody-2"):
        assert api_client.get(f"/api/v1/users/{username}").status_code == 404
    api_client.get("/no/such/path/at-all")
    assert sample("http_requests_total", method="GET", route="user-detail", status="404") == before + 2
    assert sample("http_requests_total", method="GET", route="unmatched", status="404") == before_unmatched + 1
    assert sample("http_request_duration_seconds_count", route="user-detail") >= 2
    assert "nobody-1" not in metrics.render().decode()


def test_metrics_refuse_addresses_outside_the_allow_list(api_client, settings):
    settings.METRICS_ALLOWED_IPS = ["10.20.0.0/16", "::1"]
    refused = api_client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert api_client.get("/metrics", REMOTE_ADDR="10.20.3.4").status_code == 200
    assert api_client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    # A forwarded header does not help: only the TCP peer counts.
    assert api_client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="10.20.3.4").status_code == 403


def test_default_allow_list_is_loopback_and_private_ranges(settings):
    for address in ("127.0.0.1", "10.1.2.3", "172.18.0.5", "192.168.1.1", "::1"):
        assert metrics.client_allowed(address), address
    for address in ("203.0.113.9", "8.8.8.8", "2001:db8::1", "not-an-ip", ""):
        assert not metrics.client_allowed(address), address


@pytest.mark.django_db
def test_feed_requests_are_timed_and_degraded_pages_counted(auth_client, monkeypatch):
    count = sample("feed_request_duration_seconds_count")
    degraded = sample("feed_cache_events_total", event="degraded")
    assert auth_client.get("/api/v1/feed").status_code == 200
    assert sample("feed_request_duration_seconds_count") == count + 1
    assert sample("feed_cache_events_total", event="degraded") == degraded

    def degraded_page(**kwargs):
        return feed_pages.FeedPage(items=[], next_cursor=None, source="following", degraded=True)

    monkeypatch.setattr(feed_pages, "feed_page", degraded_page)
    response = auth_client.get("/api/v1/feed")
    assert response["X-Feed-Degraded"] == "redis-unavailable"
    assert sample("feed_cache_events_total", event="degraded") == degraded + 1
    assert sample("feed_request_duration_seconds_count") == count + 2


def test_feed_and_fanout_helpers():
    hits = sample("feed_cache_events_total", event="hit")
    metrics.count_feed_event("hit")
    assert sample("feed_cache_events_total", event="hit") == hits + 1
    with pytest.raises(ValueError, match="unknown feed event"):
        metrics.count_feed_event("user-42")
    batches, fanouts = sample("fanout_batches_total"), sample("fanout_duration_seconds_count")
    metrics.observe_fanout(0.2, 3)
    assert sample("fanout_batches_total") == batches + 3
    assert sample("fanout_duration_seconds_count") == fanouts + 1
    before = sample("feed_request_duration_seconds_count")
    metrics.observe_feed_request(0.01)
    assert sample("feed_request_duration_seconds_count") == before + 1


def test_celery_tasks_are_timed_and_failures_counted():
    runs = sample("celery_task_duration_seconds_count", task="tests.ops.succeeds")
    failures = sample("celery_task_failures_total", task="tests.ops.always_fails")
    succeeds.apply()
    always_fails.apply(throw=False)
    assert sample("celery_task_duration_seconds_count", task="tests.ops.succeeds") == runs + 1
    assert sample("celery_task_failures_total", task="tests.ops.always_fails") == failures + 1
    assert sample("celery_task_failures_total", task="tests.ops.succeeds") == 0


def test_multiprocess_mode_sums_every_process(tmp_path):
    """With PROMETHEUS_MULTIPROC_DIR, values written by forked children add up in /metrics."""
    script = textwrap.dedent(
        """
        import os
        from tiktok import metrics

        for _ in range(3):
            pid = os.fork()
            if pid == 0:
                metrics.count_feed_event("hit")
                metrics.observe_fanout(0.5, 2)
                os._exit(0)
            os.waitpid(pid, 0)
        print(metrics.render().decode())
        """
    )
    env = {"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert 'feed_cache_events_total{event="hit"} 3.0' in result.stdout
    assert "fanout_batches_total 6.0" in result.stdout
    assert any(path.suffix == ".db" for path in tmp_path.iterdir())


def test_beat_probe_reads_the_last_run_of_the_heartbeat_entry():
    import json
    from datetime import UTC, datetime, timedelta

    from redbeat.decoder import RedBeatJSONEncoder
    from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf, get_redis

    from tiktok import probes

    ensure_conf(app)
    key = RedBeatSchedulerEntry.generate_key(app, "probe-test-entry")
    redis = get_redis(app)
    try:
        assert probes.beat_last_run_age("probe-test-entry") is None
        last_run = datetime.now(tz=UTC) - timedelta(seconds=30)
        redis.hset(key, "meta", json.dumps({"last_run_at": last_run}, cls=RedBeatJSONEncoder))
        assert 29 <= probes.beat_last_run_age("probe-test-entry") < 60
    finally:
        redis.delete(key)
