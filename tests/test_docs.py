"""The docs stand alone and their generated tables match the code."""

import re
import subprocess
import sys

from tests.helpers.stack import REPO

DOCS = [REPO / "README.md", REPO / "BENCHMARKS.md", REPO / "RELIABILITY.md", *sorted((REPO / "docs").glob("*.md"))]


def test_generated_tables_match_the_code():
    result = subprocess.run(
        [sys.executable, "manage.py", "docs_tables", "--check"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_point_only_inside_the_repository():
    for doc in DOCS:
        text = doc.read_text()
        assert "../shared" not in text, doc
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (doc.parent / target).exists(), f"{doc.name} links to missing {target}"
