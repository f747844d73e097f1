"""Tables in the docs that are generated from the running code, so they cannot drift.

``python manage.py docs_tables`` rewrites every block between
``<!-- generated: NAME -->`` and ``<!-- end: NAME -->`` in the files of ``DOC_FILES``;
``--check`` exits non-zero when a block differs from what the code says (the test suite
runs it). Each table is read from the registry the code itself uses: Django's URL
resolver, the Celery app's configuration, the modules' key constants.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from tiktok import events as domain_events

REPO = Path(settings.BASE_DIR)
DOC_FILES = ["docs/architecture.md", "docs/operations.md"]
BLOCK = re.compile(r"(<!-- generated: (?P<name>[a-z-]+) -->\n)(?P<body>.*?)(<!-- end: (?P=name) -->)", re.S)


def _product_apps() -> list:
    return [config for config in apps.get_app_configs() if Path(config.path).resolve().parent == REPO.resolve()]


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def _view_of(pattern: URLPattern):
    callback = pattern.callback
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback


def http_resources() -> str:
    """Every route under /api/v1/: its methods and the module that owns it."""
    rows = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/"):
            continue
        view = _view_of(pattern)
        methods = sorted(
            method.upper()
            for method in ("get", "post", "put", "patch", "delete")
            if inspect.isclass(view) and hasattr(view, method)
        )
        rows.append((f"/{route}", ", ".join(methods), f"`{view.__module__}`"))
    lines = ["| route | methods | module |", "|---|---|---|"]
    lines += [f"| `{route}` | {methods} | {module} |" for route, methods, module in rows]
    return "\n".join(lines) + "\n"


def _celery_app():
    from tiktok.celery import app

    app.loader.import_default_modules()
    return app


def _seconds(schedule) -> str:
    run_every = getattr(schedule, "run_every", schedule)
    if isinstance(run_every, (int, float)):
        seconds = float(run_every)
    elif hasattr(run_every, "total_seconds"):
        seconds = run_every.total_seconds()
    else:
        return f"`{schedule}`"
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _first_line(task_name: str, app) -> str:
    task = app.tasks.get(task_name)
    doc = inspect.getdoc(task.run) if task is not None else None
    return (doc or "").strip().splitlines()[0] if doc else ""


def beat_schedule() -> str:
    """Every periodic task: entry, task, interval and what it does (its docstring's first line)."""
    app = _celery_app()
    lines = ["| entry | task | every | does |", "|---|---|---|---|"]
    for name, entry in sorted(app.conf.beat_schedule.items()):
        task = entry["task"]
        lines.append(f"| `{name}` | `{task}` | {_seconds(entry['schedule'])} | {_first_line(task, app)} |")
    return "\n".join(lines) + "\n"


def task_routes() -> str:
    """Which queue each task goes to: the route patterns, then every registered task."""
    app = _celery_app()
    routes = app.conf.task_routes or {}
    default = app.conf.task_default_queue or "celery"

    def queue_of(name: str) -> str:
        for pattern, route in routes.items():
            if re.fullmatch(re.escape(pattern).replace(r"\*", ".*"), name):
                return route["queue"]
        return default

    names = sorted(name for name in app.tasks if not name.startswith("celery."))
    lines = ["| task | queue |", "|---|---|"]
    lines += [f"| `{name}` | `{queue_of(name)}` |" for name in names]
    return "\n".join(lines) + "\n"


def _key_constants(module) -> list[tuple[str, str, str]]:
    """``(NAME, template, comment above it)`` for each ``*_KEY`` string constant of ``module``."""
    source = Path(inspect.getfile(module)).read_text()
    lines = source.splitlines()
    found = []
    for node in ast.parse(source).body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if not (isinstance(target, ast.Name) and target.id.endswith("_KEY")):
            continue
        if not (isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            continue
        comment = []
        index = node.lineno - 2
        while index >= 0 and lines[index].lstrip().startswith("#"):
            comment.insert(0, lines[index].lstrip("# ").strip())
            index -= 1
        found.append((target.id, node.value.value, " ".join(comment)))
    return found


def redis_keys() -> str:
    """Every Redis key template (a ``*_KEY`` constant in a product module) and where it is defined."""
    lines = ["| key | template | module | what it holds |", "|---|---|---|---|"]
    for config in _product_apps():
        for path in sorted(Path(config.path).rglob("*.py")):
            if "migrations" in path.parts or "management" in path.parts:
                continue
            relative = path.relative_to(REPO).with_suffix("")
            module = importlib.import_module(".".join(relative.parts))
            for name, template, comment in _key_constants(module):
                lines.append(f"| `{name}` | `{template}` | `{module.__name__}` | {comment.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def _loaders() -> dict[tuple[str, str], str]:
    """``(app, script file) -> "module.CONSTANT"`` for every ``X = load_redis_script(app, name)``."""
    found = {}
    pattern = re.compile(r'^(\w+) = (?:redis_scripts\.)?load_redis_script\("(\w+)", "([\w.]+)"\)', re.M)
    for config in _product_apps():
        for path in sorted(Path(config.path).rglob("*.py")):
            module = ".".join(path.relative_to(REPO).with_suffix("").parts)
            for name, app, script in pattern.findall(path.read_text()):
                found[(app, script)] = f"{module}.{name}"
    return found


def lua_scripts() -> str:
    """Every Lua script file: its app, what its header says of KEYS and ARGV, and who loads it."""
    loaders = _loaders()
    lines = ["| script | KEYS | ARGV | loaded as |", "|---|---|---|---|"]
    for path in sorted(REPO.glob("*/scripts/*.lua")):
        header: dict[str, str] = {}
        current = None
        for line in path.read_text().splitlines():
            match = re.match(r"^-- (KEYS|ARGV): (.*)$", line)
            if match:
                current = match.group(1)
                header[current] = match.group(2).strip()
            elif current and re.match(r"^--\s{2,}\S", line):
                header[current] += " " + line[2:].strip()  # a continued header line
            else:
                current = None
        app = path.parent.parent.name
        loaded = loaders.get((app, path.name))
        where = f"`{loaded}`" if loaded else "included by other scripts (`-- include:`)"
        lines.append(
            f"| `{path.relative_to(REPO)}` | {header.get('KEYS', '-')} | {header.get('ARGV', '-')} | {where} |"
        )
    return "\n".join(lines) + "\n"


def events() -> str:
    """Every declared domain event: who declares it, what it means, and its handler tasks."""
    lines = ["| event | declared in | means | handlers |", "|---|---|---|---|"]
    for _name, event_type in sorted(domain_events.declared_events().items()):
        meaning = " ".join((inspect.getdoc(event_type) or "").split())
        handlers = ", ".join(f"`{task}`" for task in domain_events.handlers(event_type)) or "none"
        lines.append(f"| `{event_type.__name__}` | `{event_type.__module__}` | {meaning} | {handlers} |")
    return "\n".join(lines) + "\n"


SECTIONS: dict[str, Callable[[], str]] = {
    "events": events,
    "lua-scripts": lua_scripts,
    "http-resources": http_resources,
    "beat-schedule": beat_schedule,
    "task-routes": task_routes,
    "redis-keys": redis_keys,
}


def render(text: str) -> str:
    """``text`` with every generated block rewritten from the code."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in SECTIONS:
            raise KeyError(f"unknown generated block {name!r}")
        return f"{match.group(1)}{SECTIONS[name]()}{match.group(4)}"

    return BLOCK.sub(replace, text)


def stale_files() -> list[str]:
    """The doc files whose generated blocks differ from the code."""
    return [
        name
        for name in DOC_FILES
        if (REPO / name).exists() and render((REPO / name).read_text()) != (REPO / name).read_text()
    ]


def write_all() -> list[str]:
    changed = []
    for name in DOC_FILES:
        path = REPO / name
        if not path.exists():
            continue
        text = path.read_text()
        new = render(text)
        if new != text:
            path.write_text(new)
            changed.append(name)
    return changed
