"""The test suite's own layout: test modules and conftests never import one another.

What two test modules share lives in ``tests/helpers/`` (plain functions, and the
fixtures plugin ``tests.helpers.fixtures``) or in ``tests/factories.py``; pytest finds
fixtures in conftests by itself. Importing a test module runs its module-level code a
second time under another name and hides where a helper lives.
"""

from __future__ import annotations

import ast

from tests.helpers.stack import REPO

TESTS = REPO / "tests"
# What a module under tests/ may import from the suite.
SHARED = ("tests.helpers", "tests.factories", "tests.settings")


def imported_test_modules(path) -> list[str]:
    """The ``tests.*`` modules ``path`` imports that are not shared helpers."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import always reaches a sibling test module
                found.append("." * node.level + (node.module or ""))
                continue
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if (name == "tests" or name.startswith("tests.")) and not any(
                name == shared or name.startswith(shared + ".") for shared in SHARED
            ):
                found.append(name)
    return found


def test_no_test_module_imports_another_test_module():
    offenders = {
        str(path.relative_to(REPO)): modules
        for path in sorted(TESTS.rglob("*.py"))
        if not path.is_relative_to(TESTS / "helpers") and (modules := imported_test_modules(path))
    }
    assert offenders == {}, f"move what these share into tests/helpers/: {offenders}"


def test_the_check_sees_a_test_module_imported(tmp_path):
    module = tmp_path / "test_example.py"
    module.write_text(
        "from tests.helpers.stack import REPO\n"
        "from tests.feed.test_feed import feed_ids\n"
        "def test_x():\n    from tests.videos.conftest import Clips\n    import tests.chaos\n"
        "from .conftest import thing\n"
    )
    assert sorted(imported_test_modules(module)) == [
        ".conftest",
        "tests.chaos",
        "tests.feed.test_feed",
        "tests.videos.conftest",
    ]
