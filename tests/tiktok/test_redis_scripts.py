"""The Redis Lua scripts: each ``<app>/scripts/*.lua`` says what it takes, is loaded by name
by the code that owns its keys, and compiles in Redis."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from tiktok.redis_scripts import load_redis_script

REPO = Path(settings.BASE_DIR)
PRODUCT_APPS = ("tiktok", "accounts", "videos", "activity", "feed", "discovery", "moderation")
LOADED = re.compile(r"""load_redis_script\(\s*"(\w+)",\s*"([\w.-]+\.lua)"\s*\)""")
INCLUDED = re.compile(r"^-- include: (_[\w.-]+\.lua)$", re.MULTILINE)


def lua_files() -> list[Path]:
    return sorted(path for app in PRODUCT_APPS for path in (REPO / app / "scripts").glob("*.lua"))


def header(path: Path) -> list[str]:
    """The comment lines the file starts with."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return lines


def loaded_by_name() -> set[tuple[str, str]]:
    found = set()
    for app in PRODUCT_APPS:
        for module in (REPO / app).rglob("*.py"):
            found |= set(LOADED.findall(module.read_text()))
    return found


def test_the_scripts_are_there():
    names = {(path.parent.parent.name, path.name) for path in lua_files()}
    assert ("feed", "read_page.lua") in names and ("accounts", "token_lookup.lua") in names
    assert len(names) >= 14


@pytest.mark.parametrize("path", lua_files(), ids=lambda path: f"{path.parent.parent.name}/{path.name}")
def test_every_script_starts_with_a_header_naming_its_keys_and_argv(path):
    lines = header(path)
    assert lines, f"{path} does not start with a comment"
    if path.name.startswith("_"):  # a fragment: says what it is for
        assert any("Fragment" in line for line in lines)
    else:
        assert any(line.startswith("-- KEYS:") for line in lines), f"{path}: no '-- KEYS:' line"
        assert any(line.startswith("-- ARGV:") for line in lines), f"{path}: no '-- ARGV:' line"


def test_every_script_is_loaded_by_name_and_every_fragment_is_included():
    scripts = {(path.parent.parent.name, path.name) for path in lua_files() if not path.name.startswith("_")}
    fragments = {(path.parent.parent.name, path.name) for path in lua_files() if path.name.startswith("_")}
    loaded = loaded_by_name()
    assert scripts - loaded == set(), "scripts nobody loads"
    assert loaded - scripts == set(), "loaded names without a file"
    included = {(path.parent.parent.name, name) for path in lua_files() for name in INCLUDED.findall(path.read_text())}
    assert fragments <= included, "fragments nobody includes"


@pytest.mark.parametrize("app,name", sorted(loaded_by_name()))
def test_every_loaded_script_compiles_in_redis(app, name):
    script = load_redis_script(app, name)
    assert "-- include:" not in script.source  # fragments are spliced in
    client = get_redis_connection("default")
    assert client.script_load(script.source) == script.sha


def test_a_fragment_cannot_be_loaded_on_its_own():
    with pytest.raises(ValueError, match="fragment"):
        load_redis_script("feed", "_trim.lua")
