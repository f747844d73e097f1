"""Where one feed request or one write (PUT like / PUT follow) spends its time: py-spy on a
gunicorn worker under ``wrk -c1``.

``bench/run.py`` starts one sync gunicorn worker, records it with ``py-spy record
--format raw`` (collapsed stacks) while ``wrk`` drives one scenario with one connection, and
sorts every sample into the first category whose marker appears in its stack. Divided by
the requests served, that gives milliseconds of CPU per request and per category.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from pathlib import Path

RATE = 250  # samples per second

# Per profiled scenario, (category, markers): a sample belongs to the first category with
# a marker in its stack. Samples are taken with ``--idle``, so time spent waiting for
# Postgres or Redis counts towards the step that waits (wall time, not only CPU).
FEED_CATEGORIES = (
    ("viewer flags", ("viewer_flags (",)),
    ("cards", ("video_cards (", "_cached_bases (", "card_base (", "page_cards (")),
    ("feed page script (Redis)", ("read_page (",)),
    ("authentication", ("perform_authentication (", "authenticate (", "authenticate_credentials (")),
    ("replica state (router)", ("db_router.py",)),
    ("response rendering", ("finalize_response (", "rendered_content (", "render (", "orjson")),
    ("rest of the view", ("feed_page (", "dispatch (")),
    ("Django request/middleware", ("get_response (", "__call__ (")),
)
# PUT like / PUT follow. After-commit work runs inside the commit's stack, so the steps
# that run after the commit come before "transaction commit". The tasks a write starts
# are published by the outbox relay in the worker, not here: "outbox rows" is only the
# hand-over (the rows are written by the relation change statement).
WRITES_CATEGORIES = (
    ("outbox rows", ("outbox.py",)),
    ("counter deltas (Redis)", ("counters.py",)),
    ("viewer flags (Redis)", ("flags.py",)),
    ("write position (read-your-writes)", ("remember_write_position (",)),
    ("transaction commit", ("commit (", "__exit__ (transaction.py")),
    ("authentication", ("perform_authentication (", "authenticate (", "authenticate_credentials (")),
    ("throttle (Redis)", ("check_throttles (",)),
    ("relation change (with its checks)", ("insert_ignoring_conflict (", "_change_with_target (")),
    ("target and block checks", ("video_get_public (", "user_get_by_username (", "relations.py")),
    ("replica state (router)", ("db_router.py",)),
    ("response rendering", ("finalize_response (", "rendered_content (", "render (")),
    ("rest of the view", ("dispatch (",)),
    ("Django request/middleware", ("get_response (", "__call__ (")),
)
CATEGORIES = {"feed": FEED_CATEGORIES, "writes": WRITES_CATEGORIES}


def worker_pid(master_pid: int, timeout: float = 10.0) -> int:
    """The (single) worker of a gunicorn master."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn worker did not start")


def record(*, pid: int, seconds: float, output: Path) -> subprocess.Popen:
    """Start ``py-spy record`` on ``pid`` (returns the process; wait for it)."""
    py_spy = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "py-spy"
    command = [
        str(py_spy), "record", "--pid", str(pid), "--rate", str(RATE), "--format", "raw",
        "--duration", str(int(seconds)), "--output", str(output), "--nonblocking", "--idle",
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def breakdown(raw: Path, *, requests: int, scenario: str = "feed") -> dict:
    """Samples per category of ``scenario`` from collapsed stacks; ms per request assumes ``RATE``."""
    categories = CATEGORIES[scenario]
    counts: Counter[str] = Counter()
    total = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, number = line.rpartition(" ")
        if not number.isdigit():
            continue
        samples = int(number)
        if "handle (" not in stack:
            idle += samples
            continue
        category = next((name for name, markers in categories if any(m in stack for m in markers)), "gunicorn/WSGI")
        counts[category] += samples
    total = sum(counts.values())
    per_request = 1000 / RATE / max(requests, 1)
    return {
        "samples": total,
        "idle_samples": idle,
        "requests": requests,
        "ms_per_request": round(total * per_request, 2),
        "categories": {
            name: {"pct": round(100 * count / max(total, 1), 1), "ms_per_request": round(count * per_request, 2)}
            for name, count in counts.most_common()
        },
    }
