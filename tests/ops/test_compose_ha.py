"""The failover topology in compose (docker/compose.ha.yaml over docker/compose.yaml),
checked without a Docker engine against what `STACK_HA=1 bin/stack-ha env` gives the app."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from tests.helpers.compose import APP_SERVICES, COMPOSE, DOCKER, ENV_EXAMPLE, interpolate, read_env_file
from tests.helpers.stack import REPO

COMPOSE_HA = DOCKER / "compose.ha.yaml"
STACK_HA = REPO / "bin" / "stack-ha"
PGAF_SCRIPT = DOCKER / "pg_auto_failover" / "entrypoint.sh"
REDIS_HA_SCRIPT = DOCKER / "redis-ha" / "entrypoint.sh"
SINGLE_NODE_DATA = ("postgres", "postgres-replica", "redis-broker")
LONG_RUNNING_APP = ("web", "worker-media", "worker-fanout", "beat")
# The order in which endpoints are numbered when two environments are compared.
HA_VARIABLES = (
    "DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_SENTINELS", "REDIS_SENTINEL_MASTER",
    "CELERY_BROKER_URL", "REDIS_DURABLE_URL",
)  # fmt: skip


# --- compose's multi-file merge, for the keys these files use ------------------------------


class Override:
    """A value tagged `!override`: it replaces the earlier file's value instead of merging."""

    def __init__(self, value):
        self.value = value


class _ComposeLoader(yaml.SafeLoader):
    pass


def _construct_override(loader, node):
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    return Override(loader.construct_scalar(node))


_ComposeLoader.add_constructor("!override", _construct_override)


def load_compose(path: Path, variables: dict[str, str]) -> dict:
    return yaml.load(interpolate(path.read_text(), variables), Loader=_ComposeLoader)  # noqa: S506 (a SafeLoader)


def _plain(value):
    if isinstance(value, Override):
        return _plain(value.value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _volume_target(volume) -> str:
    return volume["target"] if isinstance(volume, dict) else volume.split(":")[1]


def merge(base, override, key: str = ""):
    """Compose's merge rules (docs.docker.com/reference/compose-file/merge): mappings merge
    key by key, sequences append, except command/entrypoint/healthcheck.test (replaced),
    volumes (unique by target) and values tagged !override (replaced)."""
    if isinstance(override, Override):
        return _plain(override)
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else _plain(value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        if key in ("command", "entrypoint", "test"):
            return _plain(override)
        if key == "volumes":
            targets = {_volume_target(volume) for volume in override}
            return [volume for volume in base if _volume_target(volume) not in targets] + _plain(override)
        return base + _plain(override)
    return _plain(override)


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def ha(env_example) -> dict:
    """`docker compose -f docker/compose.yaml -f docker/compose.ha.yaml config`, by hand,
    with docker/.env.example as docker/.env; services of a disabled profile left out."""
    merged = merge(load_compose(COMPOSE, env_example), load_compose(COMPOSE_HA, env_example))
    merged["services"] = {name: service for name, service in merged["services"].items() if not service.get("profiles")}
    return merged


@pytest.fixture(scope="module")
def stack_ha_env() -> dict[str, str]:
    """What `STACK_HA=1 bin/stack-ha env` exports for the app (it only prints; starts nothing)."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("STACK_")}
    output = subprocess.run(
        ["bash", str(STACK_HA), "env"], env=environment | {"STACK_HA": "1"},
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    # `export NAME=value` lines, value quoted by printf %q: let bash unquote them.
    print_each = '\nfor name in "$@"; do printf "%s=%s\\0" "$name" "${!name}"; done'
    unquoted = subprocess.run(
        ["bash", "-c", output + print_each, "_", *HA_VARIABLES],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    exported = dict(item.split("=", 1) for item in unquoted.split("\0") if item)
    assert set(re.findall(r"^export (\w+)=", output, flags=re.MULTILINE)) == set(HA_VARIABLES), output
    return exported


def ha_part(environment: dict) -> dict[str, str]:
    return {name: str(environment[name]) for name in HA_VARIABLES if name in environment}


def canonical(environment: dict[str, str]) -> dict[str, str]:
    """The HA variables with passwords and endpoints (host:port) replaced by placeholders,
    endpoints numbered in order of first appearance: what must be equal between compose
    and bin/stack-ha (schemes, databases, options, host order, sentinel lists)."""
    endpoints: dict[str, str] = {}

    def endpoint(match: re.Match) -> str:
        return endpoints.setdefault(match.group(0), f"<endpoint{len(endpoints) + 1}>")

    result = {}
    for name in HA_VARIABLES:
        value = re.sub(r"(://[^:/@]+):[^@/]+@", r"\1:<password>@", environment[name])
        result[name] = re.sub(r"\b[A-Za-z0-9][A-Za-z0-9.-]*:\d+\b", endpoint, value)
    return result


def hosts_named(environment: dict[str, str]) -> set[str]:
    return set(re.findall(r"\b([A-Za-z][A-Za-z0-9.-]*):\d+\b", " ".join(environment.values())))


def function_body(script: str, name: str) -> str:
    return re.search(rf"^{name}\(\) \{{\n(.*?)^\}}", script, flags=re.MULTILINE | re.DOTALL).group(1)


def required_variables(text: str) -> set[str]:
    return set(re.findall(r"\$\{(\w+):\?", text))


# --- the topology ---------------------------------------------------------------------------


def test_ha_topology_replaces_the_single_node_data_services(ha):
    services = ha["services"]
    assert not set(SINGLE_NODE_DATA) & set(services)
    assert {"pg-monitor", "pg-node1", "pg-node2", "redis-durable-1", "redis-durable-2"} <= set(services)
    assert {"redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3"} <= set(services)
    assert {"redis-cache", "minio", "nginx"} <= set(services)
    for name in ("pg-monitor", "pg-node1", "pg-node2"):
        assert services[name]["build"]["context"] == "./pg_auto_failover", name
    assert [services[name]["command"] for name in ("pg-monitor", "pg-node1", "pg-node2")] == [
        ["monitor"], ["node"], ["node"],
    ]  # fmt: skip
    assert services["redis-durable-2"]["environment"]["REDIS_REPLICA_OF"] == "redis-durable-1"
    assert "REDIS_REPLICA_OF" not in services["redis-durable-1"]["environment"]


def test_every_reference_in_the_ha_topology_resolves(ha, env_example):
    # A variable without a default must come from docker/.env (`:?` ones make loading fail).
    plain = set(re.findall(r"\$\{(\w+)\}", COMPOSE_HA.read_text()))
    assert plain <= set(env_example), plain - set(env_example)
    assert "PGAF_MONITOR_PASSWORD" in env_example
    services = ha["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on {dependency}, not started in this topology"
        if service.get("restart") != "no":
            test = service.get("healthcheck", {}).get("test")
            assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DOCKER / source).is_file(), f"{name} mounts missing {source}"
            else:
                assert source in ha["volumes"], f"{name} uses undeclared volume {source}"
        if "build" in service and service["build"]["context"].startswith("./"):
            assert (DOCKER / service["build"]["context"] / "Dockerfile").is_file(), name


def test_ha_app_environment_is_what_bin_stack_ha_gives_the_app(ha, stack_ha_env):
    expected = canonical(stack_ha_env)
    assert expected["DATABASE_URL"].endswith("?target_session_attrs=read-write")
    assert expected["DATABASE_REPLICA_URLS"].endswith("?target_session_attrs=prefer-standby")
    assert expected["CELERY_BROKER_URL"].startswith("sentinel://")
    for name in APP_SERVICES:
        environment = ha_part(ha["services"][name]["environment"])
        assert set(environment) == set(HA_VARIABLES), f"{name} lacks {set(HA_VARIABLES) - set(environment)}"
        assert canonical(environment) == expected, name
        assert hosts_named(environment) <= set(ha["services"]), name
        # The base file's single-node URLs are gone, and the cache is untouched.
        assert ha["services"][name]["environment"]["REDIS_URL"] == "redis://redis-cache:6379/0"


def test_ha_endpoints_are_the_ports_the_services_listen_on(ha):
    environment = ha_part(ha["services"]["web"]["environment"])
    pgaf = PGAF_SCRIPT.read_text()
    redis_ha = REDIS_HA_SCRIPT.read_text()
    for host, port in re.findall(r"\b([A-Za-z][A-Za-z0-9.-]*):(\d+)\b", " ".join(environment.values())):
        if host.startswith("pg-node"):
            assert port == "5432" and "--pgport 5432" in function_body(pgaf, "node"), host
        else:
            assert host.startswith("redis-sentinel-") and port == "26379" and "port 26379" in redis_ha, host
    sentinels = ha["services"]["redis-sentinel-1"]["environment"]
    assert environment["REDIS_SENTINEL_MASTER"] == sentinels["SENTINEL_MASTER"]
    assert environment["REDIS_DURABLE_URL"] == f"redis://{sentinels['SENTINEL_MASTER']}/1"
    assert sentinels["SENTINEL_MASTER_HOST"] == "redis-durable-1"


def test_app_services_wait_for_the_failover_services_they_use(ha):
    services = ha["services"]
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert not set(SINGLE_NODE_DATA) & set(depends), name
        for host in hosts_named(ha_part(services[name]["environment"])):
            if name == "migrate" and host.startswith("redis-sentinel-"):
                continue  # migrations touch PostgreSQL only
            assert depends[host]["condition"] == "service_healthy", f"{name} does not wait for {host}"
    for name in LONG_RUNNING_APP:
        depends = services[name]["depends_on"]
        assert depends["redis-cache"]["condition"] == "service_healthy", name
        assert depends["minio-bucket"]["condition"] == "service_completed_successfully", name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    # migrate runs against the writable node: the read-write multi-host URL, both nodes up.
    assert services["migrate"]["environment"]["DATABASE_URL"].endswith("target_session_attrs=read-write")
    assert set(services["migrate"]["depends_on"]) == {"pg-node1", "pg-node2"}
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]


def _settings_seen_by_the_app(environment: dict[str, str], tmp_path: Path, *, deploy_check: bool) -> dict:
    """What tiktok/settings.py makes of an environment, in a fresh process."""
    script = """
import json, django
django.setup()
from django.conf import settings as s
if %r:
    from django.core.management import call_command
    call_command("check", deploy=True, fail_level="WARNING")
databases = {alias: {"hosts": len(s.DATABASES[alias]["HOST"].split(",")),
                     "ports": len(s.DATABASES[alias]["PORT"].split(",")),
                     "target_session_attrs": s.DATABASES[alias]["OPTIONS"]["target_session_attrs"]}
             for alias in ("default", "replica")}
durable = s.CACHES["durable"]
print(json.dumps({"databases": databases, "replica_aliases": sorted(a for a in s.DATABASES if a != "default"),
    "durable": [durable["LOCATION"], durable["OPTIONS"]["CLIENT_CLASS"], len(durable["OPTIONS"]["SENTINELS"])],
    "broker_master": s.CELERY_BROKER_TRANSPORT_OPTIONS["master_name"],
    "redbeat": [s.CELERY_REDBEAT_REDIS_URL, s.CELERY_REDBEAT_REDIS_OPTIONS["service_name"],
                s.CELERY_REDBEAT_REDIS_OPTIONS["db"], len(s.CELERY_REDBEAT_REDIS_OPTIONS["sentinels"])]}))
""" % (deploy_check,)  # noqa: UP031
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "TEST_", "LOG_", "CDN_"))
    }
    tmp_path.mkdir()
    env = clean | environment | {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tiktok.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_settings_make_the_same_failover_configuration_of_both(ha, stack_ha_env, tmp_path):
    """The production settings accept the HA compose environment (deploy checks included)
    and derive from it what they derive from bin/stack-ha's: two-host databases with the
    same session attributes, Sentinel clients for the durable cache, broker and RedBeat."""
    web = {key: str(value) for key, value in ha["services"]["web"]["environment"].items()}
    from_compose = _settings_seen_by_the_app(web, tmp_path / "compose", deploy_check=True)
    from_stack = _settings_seen_by_the_app(stack_ha_env, tmp_path / "stack", deploy_check=False)
    assert from_compose == from_stack
    assert from_compose["databases"]["default"] == {"hosts": 2, "ports": 2, "target_session_attrs": "read-write"}
    assert from_compose["durable"][1] == "django_redis.client.SentinelClient"


# --- the failover services mirror bin/stack-ha ------------------------------------------


def test_pg_auto_failover_members_are_configured_as_bin_stack_ha_does(ha):
    services = ha["services"]
    stack_ha = STACK_HA.read_text()
    monitor = services["pg-monitor"]["environment"]
    stack_settings = re.search(r"for setting in (.*?); do", stack_ha, flags=re.DOTALL).group(1).replace("\\\n", " ")
    assert stack_settings.split() and monitor["PGAF_MONITOR_SETTINGS"].split() == stack_settings.split()
    pgaf = PGAF_SCRIPT.read_text()
    node_script = function_body(pgaf, "node")
    # Synchronous replication: both nodes count for the write quorum (bin/stack-ha relies
    # on pg_autoctl's default, true); the formation is bin/stack-ha's "default".
    assert "--replication-quorum true" in node_script and "--formation default" in node_script
    assert "--skip-pg-hba" in node_script and "--ssl-self-signed" in node_script
    subnet = ha["networks"]["default"]["ipam"]["config"][0]["subnet"]
    monitor_address = services["pg-monitor"]["networks"]["default"]["ipv4_address"]
    monitor_uri = urlsplit(services["pg-node1"]["environment"]["PGAF_MONITOR_URI"])
    assert monitor_uri.username == "autoctl_node" and monitor_uri.hostname == "pg-monitor"
    assert monitor_uri.path == "/pg_auto_failover"
    assert parse_qs(monitor_uri.query) == {"sslmode": ["require"]}
    assert monitor_uri.password == monitor["PGAF_MONITOR_PASSWORD"]
    assert monitor["PGAF_SUBNET"] == subnet
    for name in ("pg-node1", "pg-node2"):
        node = services[name]["environment"]
        missing = required_variables(node_script) - set(node)
        assert not missing, f"{name} lacks {missing}"
        assert node["PGAF_HOSTNAME"] == name and node["PGAF_SUBNET"] == subnet
        assert node["PGAF_MONITOR_ADDRESS"] == monitor_address
        assert services[name]["depends_on"] == {"pg-monitor": {"condition": "service_healthy"}}
        # The application's credentials are the ones its DATABASE_URL carries.
        database = urlsplit(services["web"]["environment"]["DATABASE_URL"])
        assert (node["APP_USER"], node["APP_PASSWORD"], node["APP_DB"]) == (
            database.username, database.password, database.path.lstrip("/"),
        )  # fmt: skip
    assert required_variables(function_body(pgaf, "monitor")) <= set(monitor)
    node_names = {services[name]["environment"]["PGAF_NODE_NAME"] for name in ("pg-node1", "pg-node2")}
    assert len(node_names) == 2


def test_sentinels_are_configured_as_bin_stack_ha_does(ha):
    stack_ha = STACK_HA.read_text()
    master = re.search(r"^SENTINEL_MASTER=(\S+)$", stack_ha, flags=re.MULTILINE).group(1)
    quorum = re.search(r"sentinel monitor \$SENTINEL_MASTER \S+ \S+ (\d+)", stack_ha).group(1)
    down_after = re.search(r"down-after-milliseconds \$SENTINEL_MASTER (\d+)", stack_ha).group(1)
    failover_timeout = re.search(r"failover-timeout \$SENTINEL_MASTER (\d+)", stack_ha).group(1)
    script = REDIS_HA_SCRIPT.read_text()
    sentinel_part = script.split("    sentinel)", 1)[1]
    for name in ("redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3"):
        service = ha["services"][name]
        environment = service["environment"]
        assert (environment["SENTINEL_MASTER"], environment["SENTINEL_QUORUM"]) == (master, quorum), name
        assert environment["SENTINEL_DOWN_AFTER_MS"] == down_after, name
        assert environment["SENTINEL_FAILOVER_TIMEOUT_MS"] == failover_timeout, name
        assert environment["REDIS_ANNOUNCE_HOSTNAME"] == name
        assert required_variables(sentinel_part) <= set(environment), name
        assert service["command"] == ["sentinel"]
        assert f"sentinel ckquorum {master}" in service["healthcheck"]["test"][1]
    assert len(ha["services"]["web"]["environment"]["REDIS_SENTINELS"].split(",")) == 3
    # The durable pair keeps the broker's guarantees (bin/stack-ha's `durable` settings).
    data_part = script.split("    data)", 1)[1].split("    sentinel)", 1)[0]
    for setting in ("maxmemory-policy noeviction", "appendonly yes", "appendfsync everysec"):
        assert setting in data_part and setting in stack_ha, setting
    for name in ("redis-durable-1", "redis-durable-2"):
        assert ha["services"][name]["environment"]["REDIS_ANNOUNCE_HOSTNAME"] == name
        assert ha["services"][name]["command"] == ["data"]


def test_ha_scripts_are_executable_and_parse_and_the_image_has_pg_auto_failover():
    for script, shell in ((PGAF_SCRIPT, "bash"), (REDIS_HA_SCRIPT, "sh")):
        assert os.access(script, os.X_OK), script
        result = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
    dockerfile = (DOCKER / "pg_auto_failover" / "Dockerfile").read_text()
    # The same PostgreSQL major version as the single-node topology.
    single_node = load_compose(COMPOSE, read_env_file(ENV_EXAMPLE))["services"]["postgres"]["image"]
    assert re.search(rf"^FROM {re.escape(single_node)}\b", dockerfile, flags=re.MULTILINE)
    assert re.search(r"apt-get install[^\n]*\bpostgresql-15-auto-failover\b", dockerfile)
    assert "entrypoint.sh /usr/local/bin/pgaf-entrypoint.sh" in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/pgaf-entrypoint.sh"]' in dockerfile
    assert re.search(r"^USER postgres$", dockerfile, flags=re.MULTILINE)
