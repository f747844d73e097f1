"""Redis Lua scripts, kept as ``.lua`` files in the ``scripts/`` folder of the app that owns
their keys and loaded by name with ``load_redis_script`` (as Sentry loads its own).

Each file starts with a comment naming its ``KEYS`` and ``ARGV``. A file whose name starts
with ``_`` is a fragment (shared Lua functions), never loaded on its own: a script pulls it
in with a line ``-- include: _name.lua``.

A ``RedisScript`` runs on one Redis or on Redis Cluster alike (``tiktok.redis_cluster``):
it is called with ``EVALSHA`` (the script is loaded on ``NOSCRIPT``), on whichever client
the caller passes, and ``pipelined`` runs many calls in one round trip on either (a cluster
pipeline cannot load scripts, so there the script is loaded and the calls run again; every
caller's scripts are idempotent for that reason). On Redis Cluster a script may touch only
its ``KEYS``, all in one hash slot: the owners of the keys see to that.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import redis.exceptions
from redis.cluster import RedisCluster
from redis.commands.core import Script

SCRIPTS_FOLDER = "scripts"
_INCLUDE = re.compile(r"^-- include: (_[\w.-]+\.lua)$", re.MULTILINE)


def is_cluster(client) -> bool:
    """Whether ``client`` is a Redis Cluster client (a script stays in one slot there)."""
    return isinstance(client, RedisCluster)


def scripts_dir(app: ModuleType | str | Path) -> Path:
    """The ``scripts/`` folder of an app (a module, its dotted name) or a folder itself."""
    if isinstance(app, Path):
        return app
    module = importlib.import_module(app) if isinstance(app, str) else app
    return Path(module.__file__).resolve().parent / SCRIPTS_FOLDER


def _source(folder: Path, name: str) -> str:
    text = (folder / name).read_text()
    return _INCLUDE.sub(lambda match: _source(folder, match.group(1)).rstrip("\n"), text)


class RedisScript:
    """One Lua script: ``script(client, keys=..., args=...)`` or ``script.pipelined(...)``."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        # No registered client: the caller names one per call (the cache or the durable
        # Redis, a single node or a cluster). Bytes, so the digest needs no client encoder.
        self._script = Script(None, source.encode())

    @property
    def sha(self) -> str:
        return self._script.sha

    def __call__(self, client, *, keys: Sequence = (), args: Sequence = ()):
        """Run the script once (``EVALSHA``, loading it on ``NOSCRIPT``)."""
        return self._script(keys=list(keys), args=list(args), client=client)

    def pipelined(self, client, calls: Sequence[tuple[Sequence, Sequence]], *, retry: bool = True) -> list:
        """One call per ``(keys, args)``, pipelined (not a transaction); their replies."""
        cluster = is_cluster(client)
        pipe = client.pipeline(transaction=False)
        for keys, args in calls:
            if cluster:  # routed by its first key; ``Script`` would need a plain pipeline
                pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
            else:
                self._script(keys=list(keys), args=list(args), client=pipe)
        try:
            return pipe.execute()
        except redis.exceptions.NoScriptError:
            if not retry:
                raise
            client.script_load(self._script.script)
            return self.pipelined(client, calls, retry=False)


@functools.cache
def _load(folder: Path, name: str) -> RedisScript:
    return RedisScript(name, _source(folder, name))


def load_redis_script(app: ModuleType | str | Path, name: str) -> RedisScript:
    """The script ``<app>/scripts/<name>`` (e.g. ``load_redis_script("feed", "read_page.lua")``)."""
    if name.startswith("_"):
        raise ValueError(f"{name} is a fragment: include it from a script instead")
    return _load(scripts_dir(app), name)
