"""One replica model: the router decides where a query reads (``tiktok/db_router.py``:
read-your-writes by WAL position, a task reads at least as far as the write that queued
it). Code overrides it only where the router cannot know, and says why on the line or in
the comment just above (``# primary: ...``; ``# replica: ...`` for a chosen replica).
Writes need no hint: the router sends every write to the primary."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("tiktok", "accounts", "videos", "activity", "feed", "discovery", "moderation", "api")
HINT = re.compile(r"\buse_primary\(\)|\.using\(")
REASON = re.compile(r"#\s*(primary|replica):\s*\S")
WRITE_ONLY = re.compile(r"\.using\([^)]*\)\.filter\(.*\)\.(update|delete)\(")


def hints() -> list[tuple[str, int, str, str]]:
    """Every routing hint in product code: (path, line number, line, its comment)."""
    found = []
    for package in PRODUCT:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if "/migrations/" in relative or relative == "tiktok/db_router.py":
                continue
            lines = path.read_text().splitlines()
            for index, line in enumerate(lines):
                if not HINT.search(line) or line.lstrip().startswith(("def ", "#", '"')):
                    continue
                above = []
                cursor = index - 1
                while cursor >= 0 and lines[cursor].lstrip().startswith("#"):
                    above.insert(0, lines[cursor].strip())
                    cursor -= 1
                comment = line.partition("#")[2] if "#" in line else ""
                found.append((relative, index + 1, line.strip(), " ".join(above) + " #" + comment))
    return found


def test_hints_are_found_where_they_are():
    """The scan sees the hints (a scan that finds none would pass anything)."""
    paths = {path for path, *_ in hints()}
    assert {"accounts/tokens.py", "videos/housekeeping.py", "feed/services.py"} <= paths


def test_every_routing_hint_says_why_the_router_cannot_decide():
    missing = [f"{path}:{number}: {line}" for path, number, line, comment in hints() if not REASON.search(comment)]
    assert missing == [], "routing hints without a '# primary: why' comment:\n" + "\n".join(missing)


def test_no_write_names_the_primary():
    """A write goes to the primary by itself; naming it only hides the real hints."""
    redundant = [f"{path}:{number}: {line}" for path, number, line, _ in hints() if WRITE_ONLY.search(line)]
    assert redundant == []
