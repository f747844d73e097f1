"""The layering contract (pyproject.toml, ``[tool.importlinter]``) holds, and would catch
a wrong-way import: an upward import in a scratch copy of the tree breaks it."""

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
