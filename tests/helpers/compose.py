"""The Docker files as data: paths, the app's services, .env files and compose interpolation."""

from __future__ import annotations

import re
from pathlib import Path

from tests.helpers.stack import REPO

DOCKER = REPO / "docker"


COMPOSE = DOCKER / "compose.yaml"


DOCKERFILE = DOCKER / "Dockerfile"


ENV_EXAMPLE = DOCKER / ".env.example"


APP_SERVICES = ("web", "worker-media", "worker-fanout", "beat", "migrate")


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$``."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = variables.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if not unset:
            return value
        if op in (":?", "?"):
            raise AssertionError(f"compose requires {name} ({arg}); docker/.env.example must set it")
        return arg if op in (":-", "-") else ""

    return _VARIABLE.sub(replace, text)
