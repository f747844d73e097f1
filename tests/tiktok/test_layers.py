"""The layering contracts (pyproject.toml, ``[tool.importlinter]``: the apps, and the
sub-domains inside ``activity``) hold, and would catch a wrong-way import: an upward
import in a scratch copy of the tree breaks them. Nor does a lower app name a higher app's
task (a string such as ``"feed.tasks.fanout_video"`` in ``videos``): it publishes an event
the higher app subscribes to (``tiktok.events``)."""

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"]


def lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_app_layers_are_kept():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "upward_import"),
    [
        ("videos/services.py", "from feed import services as _feed_services  # noqa"),
        ("tiktok/outbox.py", "from accounts import models as _accounts_models  # noqa"),
        ("feed/pages.py", "from bench import views as _bench_views  # noqa"),
        ("feed/services.py", "from discovery import ranking as _ranking  # noqa"),
        # Inside activity: graph <- engagement <- notifications <- visibility.
        ("activity/engagement/flags.py", "from activity.graph import services as _graph_services  # noqa"),
        ("activity/notifications/services.py", "from activity.engagement import counters as _counters  # noqa"),
        ("activity/visibility/relations.py", "from activity.notifications import selectors as _inbox  # noqa"),
    ],
)
def test_an_upward_import_breaks_the_contract(tmp_path, module, upward_import):
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / "pyproject.toml", tree)
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__", "results"))
    with (tree / module).open("a") as handle:
        # Inside a function: hiding an import there does not dodge the contract.
        handle.write(f"\n\ndef _scratch():\n    {upward_import}\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout


# --- Task names: a lower app starts higher work by publishing an event (tiktok.events) --

LAYERS = ["tiktok", "accounts", "videos", "activity", "feed", "discovery", "moderation", "api"]
TASK_NAME = re.compile(r"(\w+)\.tasks\.[\w*]+")


def upward_task_names(tree: Path) -> list[str]:
    """Every string in a lower app's code that is the name of a higher app's task."""
    found = []
    for rank, app in enumerate(LAYERS):
        for path in sorted((tree / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                    continue
                match = TASK_NAME.fullmatch(node.value.strip())
                if match and match[1] in LAYERS and LAYERS.index(match[1]) > rank:
                    found.append(f"{path.relative_to(tree)}:{node.lineno}: {node.value!r}")
    return found


def test_no_lower_app_names_a_higher_apps_task():
    assert upward_task_names(ROOT) == []


@pytest.mark.parametrize(
    ("module", "upward_line"),
    [
        ("videos/services.py", 'enqueue_on_commit("feed.tasks.fanout_video", "1")'),
        ("activity/graph/services.py", 'Task("feed.tasks.merge_creator_into_feed", (1, 2))'),
        ("tiktok/settings.py", 'ROUTES = {"feed.tasks.fanout_*": {"queue": "fanout"}}'),
    ],
)
def test_a_higher_apps_task_name_in_a_lower_app_is_caught(tmp_path, module, upward_line):
    tree = tmp_path / "tree"
    for app in LAYERS:
        shutil.copytree(ROOT / app, tree / app, ignore=shutil.ignore_patterns("__pycache__"))
    with (tree / module).open("a") as handle:
        handle.write(f"\n\ndef _scratch():\n    {upward_line}\n")
    assert [line for line in upward_task_names(tree) if line.startswith(module)]
