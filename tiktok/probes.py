"""Container health probes that need the application: ``python -m tiktok.probes beat``.

``beat``: the scheduler is alive if it ran its most frequent entry (the worker
heartbeat, every 30 s) recently. RedBeat keeps each entry's last run in Redis, so
this works whichever beat instance holds the lock, and needs no worker to be up.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

BEAT_ENTRY = "worker-heartbeat"
BEAT_MAX_AGE_SECONDS = 120.0


def beat_last_run_age(entry_name: str = BEAT_ENTRY) -> float | None:
    """Seconds since beat last sent ``entry_name``, or None if it never did."""
    from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

    from tiktok.celery import app

    ensure_conf(app)
    meta = RedBeatSchedulerEntry.load_meta(RedBeatSchedulerEntry.generate_key(app, entry_name), app=app)
    last_run_at = meta.get("last_run_at")
    if last_run_at is None:
        return None
    if last_run_at.tzinfo is None:
        last_run_at = last_run_at.replace(tzinfo=UTC)
    return (datetime.now(tz=UTC) - last_run_at).total_seconds()


def main(argv: list[str]) -> int:
    if argv[1:] != ["beat"]:
        print("usage: python -m tiktok.probes beat", file=sys.stderr)
        return 2
    import django

    django.setup()
    age = beat_last_run_age()
    if age is None or age > BEAT_MAX_AGE_SECONDS:
        print(f"beat: {BEAT_ENTRY} last sent {age if age is None else round(age)} s ago", file=sys.stderr)
        return 1
    print(f"beat: ok ({round(age)} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
