"""Helpers of ``manage.py seed_bench``: progress lines, COPY text encoding, column lists
and the power-law exponent of the follow graph."""

from __future__ import annotations

import json
import time
from datetime import datetime

from django.core.management.base import CommandError


class Progress:
    """One progress line, rewritten in place."""

    def __init__(self, label: str, total: int, stream):
        self.label, self.total, self.stream = label, total, stream
        self.started = self.printed = time.monotonic()
        self.done = 0
        self.tty = stream.isatty()

    def add(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.printed >= (0.5 if self.tty else 10.0):
            self.printed = now
            self._print(end="\r" if self.tty else "\n")

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        self._print(end="\n")
        return elapsed

    def _print(self, *, end: str) -> None:
        percent = 100.0 * self.done / self.total if self.total else 100.0
        elapsed = time.monotonic() - self.started
        self.stream.write(f"  {self.label:<10} {self.done:>12,}/{self.total:,} ({percent:5.1f}%) {elapsed:7.1f} s{end}")
        self.stream.flush()


def copy_text(value) -> str:
    """A constant in COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def columns_of(model, generated: list[str]) -> tuple[list[str], str]:
    """Columns to COPY: ``generated`` ones first, then every other column as a constant.

    Columns added to the models later get their Python default, so a new nullable or
    defaulted field does not break the loader. Columns with a database default
    (``Video.feed_id``: its sequence) are left out: COPY fills them from that default,
    in the order rows are loaded.
    """
    constants = []
    names = []
    for field in model._meta.concrete_fields:
        if field.column in generated or field.has_db_default():
            continue
        default = field.get_default()
        if default is None and not field.null:
            raise CommandError(f"{model.__name__}.{field.name} has no default: teach seed_bench to fill it.")
        names.append(field.column)
        constants.append(copy_text(default))
    return generated + names, "".join("\t" + value for value in constants)


def power_law_alpha(count: int, weight_sum: float) -> float:
    """``alpha`` such that ``sum(r ** -alpha for r in 1..count)`` equals ``weight_sum``."""
    low, high = 0.0, 3.0
    for _ in range(50):
        alpha = (low + high) / 2
        total = sum(rank**-alpha for rank in range(1, count + 1))
        low, high = (alpha, high) if total > weight_sum else (low, alpha)
    return (low + high) / 2


# ``followers_count`` and ``following_count`` of every user from the loaded follows (both
# seeders: ``seed_bench`` and the For You evaluation's ``eval_seed``).
FOLLOW_COUNTERS_SQL = """
UPDATE accounts_user u SET followers_count = s.followers, following_count = s.following
FROM (
    SELECT id, sum(followers) AS followers, sum(following) AS following FROM (
        SELECT followee_id AS id, count(*) AS followers, 0 AS following
        FROM activity_follow GROUP BY followee_id
        UNION ALL
        SELECT follower_id, 0, count(*) FROM activity_follow GROUP BY follower_id
    ) parts GROUP BY id
) s WHERE u.id = s.id
"""
