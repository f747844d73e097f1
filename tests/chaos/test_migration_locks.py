"""A schema migration on a big, busy table never makes requests wait on its locks.

A table of 1.5 M rows (``CHAOS_MIGRATION_ROWS`` sets it: 10 M for the large-set figure)
takes reads, updates and inserts from a few clients while a migration runs through the
project's database backend (django-pg-zero-downtime-migrations): a column with a
default, an index, and a NOT NULL on an existing column. PostgreSQL's own view
(``pg_stat_activity``) is sampled throughout: no client statement may wait on a lock for
a second or more, and every statement must succeed. The longest statement is printed
(RELIABILITY.md records it).
"""

from __future__ import annotations

import os
import random
import threading
import time

import psycopg
import pytest
from django.db import connections, migrations, models
from django.db.migrations.state import ProjectState

from tests.helpers.stack import wait_until

pytestmark = [pytest.mark.chaos, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("CHAOS_MIGRATION_ROWS", "1500000"))
CLIENTS = 3
LOAD_APPLICATION = "migration-load"
MAX_LOCK_WAIT_SECONDS = 1.0


def primary_url() -> str:
    s = connections["default"].settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@pytest.fixture
def big_table():
    with psycopg.connect(primary_url(), autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS chaos_big")
        db.execute("CREATE TABLE chaos_big (id bigserial PRIMARY KEY, n integer NOT NULL, note text)")
        db.execute("SET synchronous_commit = off")
        db.execute(
            "INSERT INTO chaos_big (n, note) SELECT g %% 1000, 'row ' || g FROM generate_series(1, %s) g", [ROWS]
        )
        db.execute("VACUUM ANALYZE chaos_big")
    yield "chaos_big"
    with psycopg.connect(primary_url(), autocommit=True) as db:
        db.execute("DROP TABLE IF EXISTS chaos_big")


class Load:
    """Clients reading, updating and inserting rows until stopped; every statement timed."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self.client, args=(i,), daemon=True) for i in range(CLIENTS)]

    def client(self, number: int) -> None:
        rng = random.Random(number)
        with psycopg.connect(primary_url(), autocommit=True, application_name=LOAD_APPLICATION) as db:
            while not self.stop.is_set():
                row = rng.randint(1, ROWS)
                statement = rng.choice(
                    [
                        ("SELECT n, note FROM chaos_big WHERE id = %s", [row]),
                        ("UPDATE chaos_big SET n = n + 1 WHERE id = %s", [row]),
                        ("INSERT INTO chaos_big (n, note) VALUES (%s, 'new')", [row % 1000]),
                    ]
                )
                started = time.monotonic()
                try:
                    db.execute(*statement)
                except psycopg.Error as exc:
                    self.errors.append(f"{statement[0]}: {exc}")
                self.latencies.append(time.monotonic() - started)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


class LockWaits:
    """Samples pg_stat_activity: the longest lock wait seen for a load client's statement."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.longest = 0.0
        self.samples = 0
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        with psycopg.connect(primary_url(), autocommit=True) as db:
            while not self.stop.wait(0.05):
                waited = db.execute(
                    "SELECT COALESCE(MAX(EXTRACT(EPOCH FROM clock_timestamp() - query_start)), 0)"
                    " FROM pg_stat_activity WHERE application_name = %s AND state = 'active'"
                    " AND wait_event_type = 'Lock'",
                    [LOAD_APPLICATION],
                ).fetchone()[0]
                self.longest = max(self.longest, float(waited))
                self.samples += 1

    def __enter__(self) -> LockWaits:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=10)


def test_a_migration_on_a_big_busy_table_never_blocks_requests(big_table):
    state = ProjectState()
    migrations.CreateModel(
        "Big",
        fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("n", models.IntegerField()),
            ("note", models.TextField(null=True)),
        ],
        options={"db_table": big_table},
    ).state_forwards("tiktok", state)
    operations = [
        migrations.AddField("big", "score", models.IntegerField(default=0, db_default=0)),
        migrations.AddIndex("big", models.Index(fields=["n"], name="chaos_big_n_idx")),
        migrations.AlterField("big", "note", models.TextField(default="", db_default="")),
    ]
    connection = connections["default"]
    with Load() as load, LockWaits() as waits:
        wait_until(lambda: len(load.latencies) > 50, timeout=30, message="the load to run")
        migrating_started = time.monotonic()
        with connection.schema_editor() as editor:
            for operation in operations:
                before = state.clone()
                operation.state_forwards("tiktok", state)
                operation.database_forwards("tiktok", editor, before, state)
        migration_seconds = time.monotonic() - migrating_started
    print(
        f"\nmigration of {ROWS:,} rows under load: {migration_seconds:.1f}s; {len(load.latencies):,} statements,"
        f" longest {max(load.latencies):.3f}s, longest lock wait seen {waits.longest:.3f}s ({waits.samples} samples)"
    )
    assert load.errors == []
    assert len(load.latencies) > 100 and waits.samples > 10
    assert waits.longest < MAX_LOCK_WAIT_SECONDS
    with psycopg.connect(primary_url(), autocommit=True) as db:
        columns = dict(
            db.execute(
                "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = %s",
                [big_table],
            ).fetchall()
        )
        valid = db.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = 'chaos_big_n_idx'::regclass").fetchone()[
            0
        ]
        nulls = db.execute("SELECT count(*) FROM chaos_big WHERE score IS NULL OR note IS NULL").fetchone()[0]
    assert (columns["score"], columns["note"]) == ("NO", "NO")
    assert valid is True
    assert nulls == 0
