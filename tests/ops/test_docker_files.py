"""The deployment files, checked without a Docker engine: compose, Dockerfile, scripts, nginx."""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from tests.helpers.compose import (
    APP_SERVICES,
    COMPOSE,
    DOCKER,
    DOCKERFILE,
    ENV_EXAMPLE,
    interpolate,
    read_env_file,
)
from tests.helpers.stack import REPO

LONG_RUNNING = (
    "web", "worker-media", "worker-fanout", "beat", "nginx",
    "postgres", "postgres-replica", "redis-broker", "redis-cache", "minio",
)  # fmt: skip
# Read by the settings and needed in production even where they have a local default.
DEPLOYMENT_VARIABLES = {
    "DJANGO_ENV", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "DATABASE_REPLICA_URLS",
    "REDIS_URL", "REDIS_DURABLE_URL", "CELERY_BROKER_URL", "AWS_S3_ENDPOINT_URL", "AWS_STORAGE_BUCKET_NAME",
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "CDN_BASE_URL",
}  # fmt: skip


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def compose(env_example) -> dict:
    """The compose file as docker compose sees it with docker/.env.example as docker/.env."""
    return yaml.safe_load(interpolate(COMPOSE.read_text(), env_example))


def command_of(service: dict) -> list[str]:
    command = service.get("command", [])
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def production_required_variables() -> set[str]:
    """Every variable the settings refuse to start without when DJANGO_ENV=production."""
    source = (REPO / "tiktok" / "settings.py").read_text()
    required = set(re.findall(r'env\(\s*"([A-Z0-9_]+)"[^)]*required_in_production=True', source))
    required |= set(re.findall(r"The environment variable ([A-Z0-9_]+) is required", source))
    required |= set(re.findall(r'required_in_production\(\s*"([A-Z0-9_]+)"', source))
    return required


def test_compose_parses_and_has_every_service(compose):
    assert set(compose["services"]) >= {*LONG_RUNNING, "migrate", "minio-bucket"}
    assert compose["services"]["postgres"]["image"].startswith("postgres:15")
    assert compose["services"]["postgres-replica"]["image"].startswith("postgres:15")
    assert compose["services"]["minio-bucket"]["image"].startswith("minio/mc")


def test_every_service_has_a_healthcheck_or_is_a_one_shot_job(compose):
    for name, service in compose["services"].items():
        if service.get("restart") == "no":
            assert "healthcheck" not in service, name
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
    for name in LONG_RUNNING:
        assert compose["services"][name].get("restart") != "no", name


def test_celery_health_checks_ping_their_own_worker(compose):
    for name in ("worker-media", "worker-fanout"):
        test = " ".join(compose["services"][name]["healthcheck"]["test"][1:])
        assert "inspect ping -d celery@$HOSTNAME" in test, name


def test_app_services_get_every_variable_production_requires(compose):
    required = production_required_variables()
    assert {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "AWS_ACCESS_KEY_ID"} <= required
    for name in APP_SERVICES:
        environment = compose["services"][name]["environment"]
        missing = (required | DEPLOYMENT_VARIABLES) - {key for key, value in environment.items() if value}
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert environment["DJANGO_ENV"] == "production"


def test_app_services_use_the_hosts_compose_defines(compose):
    services = compose["services"]
    environment = services["web"]["environment"]
    hosts = {
        "DATABASE_URL": "postgres",
        "DATABASE_REPLICA_URLS": "postgres-replica",
        "REDIS_URL": "redis-cache",
        "REDIS_DURABLE_URL": "redis-broker",
        "CELERY_BROKER_URL": "redis-broker",
        "AWS_S3_ENDPOINT_URL": "minio",
    }
    for variable, host in hosts.items():
        assert f"@{host}:" in environment[variable] or f"//{host}:" in environment[variable], variable
        assert host in services
    assert environment["CDN_BASE_URL"].rstrip("/").endswith(f"/media/{environment['AWS_STORAGE_BUCKET_NAME']}")
    assert environment["CDN_PURGE_URL"].startswith("http://nginx:8081/")


def test_commands_name_programs_that_exist_in_the_project(compose):
    from django.core.management import get_commands

    from tiktok.celery import task_routes
    from tiktok.settings import CELERY_TASK_DEFAULT_QUEUE

    known_queues = {CELERY_TASK_DEFAULT_QUEUE} | {route["queue"] for route in task_routes().values()}
    consumed: set[str] = set()
    for name in APP_SERVICES:
        command = command_of(compose["services"][name])
        program = command[0]
        if program == "gunicorn":
            module, _, attribute = command[1].partition(":")
            assert hasattr(importlib.import_module(module), attribute or "application")
            config = command[command.index("-c") + 1]
            assert config.startswith("python:")
            assert importlib.util.find_spec(config.removeprefix("python:")) is not None
        elif program == "celery":
            assert command[1:3] == ["-A", "tiktok"]
            assert importlib.import_module("tiktok.celery").app.main == "tiktok"
            assert command[3] in {"worker", "beat"}, command
            if command[3] == "worker":
                queues = set(command[command.index("-Q") + 1].split(","))
                assert queues <= known_queues, queues - known_queues
                consumed |= queues
        elif program == "python":
            assert command[1] == "manage.py" and command[2] in get_commands(), command
        else:
            pytest.fail(f"{name}: unexpected program {program}")
    assert consumed == known_queues, "every queue needs a worker"
    beat_probe = compose["services"]["beat"]["healthcheck"]["test"][1]
    assert "python -m tiktok.probes beat" in beat_probe
    assert importlib.util.find_spec("tiktok.probes") is not None


def test_web_waits_for_migrations_and_the_data_services(compose):
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    for name in ("web", "worker-media", "worker-fanout", "beat"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy", name
        assert depends["redis-broker"]["condition"] == "service_healthy", name
        assert depends["minio-bucket"]["condition"] == "service_completed_successfully", name


def test_redis_instances_have_their_eviction_policies(compose):
    broker = " ".join(command_of(compose["services"]["redis-broker"]))
    cache = " ".join(command_of(compose["services"]["redis-cache"]))
    assert "--maxmemory-policy noeviction" in broker and "--appendonly yes" in broker
    assert "--maxmemory 512mb" in cache and "--maxmemory-policy allkeys-lru" in cache


def test_replica_clones_the_primary_with_pg_basebackup(compose):
    replica = compose["services"]["postgres-replica"]
    mounted = {volume.split(":")[1]: DOCKER / volume.split(":")[0] for volume in replica["volumes"][1:]}
    entrypoint = replica["entrypoint"][0]
    script = mounted[entrypoint]
    text = script.read_text()
    assert "pg_basebackup" in text and "--write-recovery-conf" in text
    assert "exec docker-entrypoint.sh" in text
    primary = compose["services"]["postgres"]
    init = [DOCKER / volume.split(":")[0] for volume in primary["volumes"] if "docker-entrypoint-initdb.d" in volume]
    assert init and "REPLICATION" in init[0].read_text()
    assert "wal_level=replica" in command_of(primary)


def test_shell_scripts_are_executable_and_parse():
    scripts = [DOCKER / "entrypoint.sh", *sorted((DOCKER / "postgres").glob("*.sh"))]
    assert len(scripts) == 3
    for script in scripts:
        assert os.access(script, os.X_OK), script
        shell = "sh" if script.name == "entrypoint.sh" else "bash"
        result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr


def test_minio_bucket_job_creates_the_bucket_the_app_uses(compose):
    script = compose["services"]["minio-bucket"]["command"][0]
    bucket = compose["services"]["web"]["environment"]["AWS_STORAGE_BUCKET_NAME"]
    assert f"mc mb --ignore-existing store/{bucket}" in script
    # Private bucket: no anonymous download; only the CDN's address may read media.
    assert "mc anonymous set download" not in script
    assert f"mc anonymous set-json /tmp/cdn-read.json store/{bucket}" in script
    nginx_address = compose["services"]["nginx"]["networks"]["default"]["ipv4_address"]
    assert f'"aws:SourceIp": ["{nginx_address}/32"]' in script


def test_nginx_caches_media_from_the_bucket_and_hides_metrics(compose):
    conf = (DOCKER / "nginx" / "nginx.conf").read_text()
    bucket = compose["services"]["web"]["environment"]["AWS_STORAGE_BUCKET_NAME"]
    assert conf.count("{") == conf.count("}")
    cdn = (DOCKER / "nginx" / "cdn.conf").read_text()
    assert "proxy_cache_path" in conf and "proxy_cache media;" in cdn and "proxy_cache_lock on;" in cdn
    assert "include /etc/nginx/cdn.conf;" in conf and "include /etc/nginx/cdn-purge.conf;" in conf
    assert "secure_link_md5" in cdn and "public-read" not in conf + cdn
    assert "server minio:9000;" in conf and "server web:8000;" in conf
    assert bucket
    assert re.search(r"location = /metrics \{\s*return 404;", conf)
    assert "location = /nginx-health" in conf
    nginx = compose["services"]["nginx"]
    assert nginx["build"]["target"] == "nginx"
    assert "/nginx-health" in " ".join(nginx["healthcheck"]["test"])


def test_nginx_keeps_internal_endpoints_off_the_public_side_and_sets_the_scheme_itself():
    conf = (DOCKER / "nginx" / "nginx.conf").read_text()
    for path in ("/metrics", "/readyz"):
        assert re.search(rf"location = {path} \{{\s*return 404;", conf), path
    internal = re.search(r"location ~ (\S+) \{\s*return 404;", conf)
    assert internal is not None
    for path, refused in [("/api/schema", True), ("/api/docs", True), ("/api/v1/feed", False), ("/api/v1/docs", False)]:
        assert bool(re.search(internal.group(1), path)) is refused, path
    # The client's X-Forwarded-Proto is never passed through as such: the header sent
    # upstream is nginx's own $scheme unless an internal peer (the TLS edge) says https.
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in conf
    assert "$http_x_forwarded_proto;" not in conf
    mapping = re.search(r'map "\$peer_is_internal:\$http_x_forwarded_proto" \$forwarded_proto \{([^}]*)\}', conf)
    assert mapping is not None
    entries = dict(line.strip().rstrip(";").split() for line in mapping.group(1).strip().splitlines())
    assert entries == {"default": "$scheme", '"1:https"': "https"}
    geo = re.search(r"geo \$realip_remote_addr \$peer_is_internal \{([^}]*)\}", conf)
    assert geo is not None
    trusted = {line.split()[0] for line in geo.group(1).strip().splitlines() if line.strip().endswith("1;")}
    assert trusted == {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "::1/128", "fc00::/7"}


def test_dockerfile_is_multi_stage_slim_non_root_with_ffmpeg_and_static_files():
    text = DOCKERFILE.read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, flags=re.MULTILINE | re.IGNORECASE)
    names = [name for _, name in stages]
    assert {"builder", "runtime", "nginx"} <= set(names)
    assert "python:3.11-slim" in text
    assert "COPY --from=builder /opt/venv /opt/venv" in text
    runtime = text.split("AS runtime", 1)[1].split("AS nginx", 1)[0]
    assert re.search(r"apt-get install[^\n]*\bffmpeg\b", runtime)
    users = re.findall(r"^USER\s+(\S+)", runtime, flags=re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "manage.py collectstatic --noinput" in runtime
    assert "DJANGO_ENV=production" in runtime
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]' in runtime
    assert re.search(r'^CMD \["gunicorn", "tiktok.wsgi"', runtime, flags=re.MULTILINE)
    assert names[-1] == "app" and stages[-1][0] == "runtime", "docker build without --target builds the app"
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text().split()
    assert {".venv", ".stack", ".git", "docker/.env"} <= set(ignore)


def test_compose_environment_passes_django_deploy_checks(compose, tmp_path):
    environment = {key: str(value) for key, value in compose["services"]["web"]["environment"].items()}
    # Where the settings would find a local default instead, the compose value must win.
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "TEST_", "LOG_"))
    }
    env = clean | environment | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
