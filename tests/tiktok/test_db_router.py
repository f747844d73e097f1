"""Primary/replica routing against the real streaming replica.

The connection that served a read is identified by asking it ``pg_is_in_recovery()``;
lag is produced with ``pg_wal_replay_pause()``; one test stops the replica outright.
"""

import time

import pytest
from django.db import connections, transaction

from accounts.models import User
from tests.factories import UserFactory
from tests.helpers.api import client_for
from tests.helpers.db import aliases_that_read
from tests.helpers.stack import replica_paused, stack, wait_for_replica_to_catch_up, wait_until
from tiktok import db_router

pytestmark = pytest.mark.django_db(transaction=True)


def in_recovery(alias: str) -> bool:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        return cursor.fetchone()[0]


@pytest.fixture
def paused_replica():
    """Pause WAL replay on the replica for the test; always resume afterwards."""
    with replica_paused():
        yield


def test_reads_go_to_the_replica_and_writes_to_the_primary():
    UserFactory(username="reader")
    wait_for_replica_to_catch_up()
    with db_router.scope():
        served = aliases_that_read("accounts_user", lambda: list(User.objects.filter(username="reader")))
    assert served == {"replica"}
    assert in_recovery("replica") is True
    assert in_recovery("default") is False
    assert db_router.PrimaryReplicaRouter().db_for_write(User) == "default"


def test_reads_inside_a_transaction_stay_on_the_primary():
    UserFactory(username="inside")
    with db_router.scope(), transaction.atomic():
        served = aliases_that_read("accounts_user", lambda: list(User.objects.filter(username="inside")))
    assert served == {"default"}


def test_reads_after_a_write_in_the_same_scope_use_the_primary():
    with db_router.scope():
        UserFactory(username="writer")
        served = aliases_that_read("accounts_user", lambda: User.objects.get(username="writer"))
    assert served == {"default"}


def test_user_reads_own_write_while_replica_replay_is_paused(request):
    writer, other = UserFactory(username="writer"), UserFactory(username="bystander")
    writer_client, other_client = client_for(writer), client_for(other)
    wait_for_replica_to_catch_up()
    request.getfixturevalue("paused_replica")

    assert writer_client.patch("/api/v1/me", {"bio": "fresh words"}, format="json").status_code == 200

    def writer_reads():
        response = writer_client.get("/api/v1/users/writer")
        assert response.status_code == 200
        assert response.json()["bio"] == "fresh words"

    assert aliases_that_read("accounts_user", writer_reads) == {"default"}

    def other_reads():
        assert other_client.get("/api/v1/users/bystander").status_code == 200

    # Other readers keep using the replica (its lag is still within the bound).
    assert aliases_that_read("accounts_user", other_reads) == {"replica"}

    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_replica_to_catch_up()
    assert aliases_that_read("accounts_user", writer_reads) == {"replica"}


def test_replica_state_is_checked_once_per_process_interval_not_per_request(settings, monkeypatch):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 30.0
    UserFactory(username="reader")
    wait_for_replica_to_catch_up()
    checks = []
    original = db_router.check_replica
    monkeypatch.setattr(db_router, "check_replica", lambda alias: checks.append(alias) or original(alias))
    for _ in range(20):  # twenty requests' worth of scopes
        with db_router.scope():
            assert aliases_that_read("accounts_user", lambda: User.objects.get(username="reader")) == {"replica"}
    assert checks == ["replica"]


def test_read_your_writes_stays_exact_with_a_long_lived_replica_state(settings, request):
    """The process's cached replay position is older than a user's write: that reader
    asks the replica again (once per request), and reads the primary while it lags."""
    settings.DATABASE_REPLICA_CHECK_SECONDS = 30.0
    writer = UserFactory(username="writer")
    writer_client = client_for(writer)
    wait_for_replica_to_catch_up()
    assert writer_client.get("/api/v1/users/writer").status_code == 200  # the state is cached now
    request.getfixturevalue("paused_replica")
    assert writer_client.patch("/api/v1/me", {"bio": "fresh words"}, format="json").status_code == 200

    def writer_reads():
        assert writer_client.get("/api/v1/users/writer").json()["bio"] == "fresh words"

    assert aliases_that_read("accounts_user", writer_reads) == {"default"}
    with connections["replica"].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for_replica_to_catch_up()
    assert aliases_that_read("accounts_user", writer_reads) == {"replica"}


def test_a_replica_lagging_past_the_bound_is_skipped(settings, paused_replica):
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 0.5
    UserFactory(username="lagging")  # a write the paused replica has not replayed
    time.sleep(1.0)
    with db_router.scope():
        served = aliases_that_read("accounts_user", lambda: list(User.objects.filter(username="lagging")))
    assert served == {"default"}


def test_time_pin_is_the_fallback_when_the_wal_position_cannot_be_read(monkeypatch):
    user = UserFactory(username="pinned")
    client = client_for(user)

    def unreadable():
        raise RuntimeError("no position")

    monkeypatch.setattr(db_router, "primary_wal_position", unreadable)
    assert client.patch("/api/v1/me", {"bio": "pinned"}, format="json").status_code == 200
    monkeypatch.undo()
    wait_for_replica_to_catch_up()

    def reads():
        assert client.get("/api/v1/users/pinned").status_code == 200

    assert aliases_that_read("accounts_user", reads) == {"default"}


@pytest.mark.slow
def test_stopped_replica_means_primary_reads_and_no_errors(settings):
    settings.DATABASE_REPLICA_RETRY_SECONDS = 1.0
    user = UserFactory(username="steady")
    client = client_for(user)
    wait_for_replica_to_catch_up()
    assert aliases_that_read("accounts_user", lambda: client.get("/api/v1/users/steady")) == {"replica"}
    stack("stop", "pg-replica", "--immediate")
    try:
        for _ in range(5):
            response = client.get("/api/v1/users/steady")
            assert response.status_code == 200, response.content
        assert aliases_that_read("accounts_user", lambda: client.get("/api/v1/users/steady")) == {"default"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["replica"]["ok"] is False
    finally:
        stack("start", "pg-replica")
    wait_for_replica_to_catch_up(timeout=30)

    def back_on_replica():
        served = aliases_that_read("accounts_user", lambda: client.get("/api/v1/users/steady"))
        return served == {"replica"}

    wait_until(back_on_replica, timeout=15, message="reads to return to the replica")


def wal_receiver_status(alias: str = "replica") -> str | None:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT status FROM pg_stat_wal_receiver")
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.fixture
def stopped_stream():
    """The replica stops streaming (no primary_conninfo, so no WAL receiver) while both
    servers stay up; the stream is always restored afterwards."""

    def run(sql: str) -> None:
        with connections["replica"].cursor() as cursor:
            cursor.execute(sql)

    wait_for_replica_to_catch_up()
    run("ALTER SYSTEM SET primary_conninfo = ''")
    try:
        run("SELECT pg_reload_conf()")
        wait_until(lambda: wal_receiver_status() is None, timeout=10, message="the WAL receiver to stop")
        yield
    finally:
        run("ALTER SYSTEM RESET primary_conninfo")
        run("SELECT pg_reload_conf()")
        wait_until(lambda: wal_receiver_status() == "streaming", timeout=20, message="streaming to resume")
        wait_for_replica_to_catch_up(timeout=20)


def test_a_replica_that_stopped_streaming_is_not_read_while_the_primary_is_up(stopped_stream):
    # Written after the stream stopped: the replica never gets it, yet it has replayed all
    # it received, so its replay lag alone reads 0.
    UserFactory(username="after-the-stream-stopped")
    found = []

    def read():
        found.extend(User.objects.filter(username="after-the-stream-stopped"))

    with db_router.scope():
        served = aliases_that_read("accounts_user", read)
    assert served == {"default"}
    assert len(found) == 1
    state = db_router.check_replica("replica")
    assert (state.healthy, state.streaming) == (False, False)
    ready = client_for(UserFactory()).get("/readyz")
    assert ready.status_code == 200  # the primary serves: the process stays ready
    replica = ready.json()["checks"]["replica"]
    assert (replica["ok"], replica["streaming"]) == (False, False)


_WAL_PAGE = 8192


def _primary_positions() -> tuple[int, int]:
    """The primary's WAL insert and flush positions in bytes."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint,"
            " (pg_current_wal_flush_lsn() - '0/0'::pg_lsn)::bigint"
        )
        return cursor.fetchone()


def _commit_padding(length: int) -> None:
    """One committed transaction whose WAL is a message of ``length`` bytes and its commit."""
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_logical_emit_message(true, 'page-end', repeat('x', %s))", [length])


def end_last_commit_on_a_wal_page_boundary() -> int:
    """Commit until the primary's last record ends exactly where a WAL page ends; return
    that position. The insert position then points past the next page's header, beyond
    anything a replica can replay until more WAL comes."""
    for _ in range(20):
        start, _ = _primary_positions()
        _commit_padding(300)
        measured, _ = _primary_positions()
        used, room = measured - start, _WAL_PAGE - measured % _WAL_PAGE
        if measured // _WAL_PAGE != start // _WAL_PAGE or room < used + 16:
            continue  # crossed a page while measuring, or too little room left: again
        _commit_padding(300 + room - used)
        inserted, flushed = _primary_positions()
        if flushed % _WAL_PAGE == 0 and inserted > flushed:
            return flushed
    raise AssertionError("could not end a commit on a WAL page boundary")


def replayed(alias: str = "replica") -> int:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint")
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("receiver_silence", [60.0, -1.0], ids=["streaming", "silent-receiver"])
def test_a_caught_up_replica_is_fresh_on_an_idle_primary(settings, receiver_silence):
    """Everything committed is on the replica, yet the primary's insert position lies past
    a page header: reads that must see every commit (and a replica whose receiver has been
    silent, as on an idle primary) are still served by the replica."""
    settings.DATABASE_REPLICA_RECEIVER_SILENCE_SECONDS = receiver_silence
    UserFactory(username="committed")
    for _ in range(5):  # other WAL (a checkpoint, autovacuum) may land in between: then again
        boundary = end_last_commit_on_a_wal_page_boundary()
        wait_until(lambda b=boundary: replayed() >= b, timeout=10, message="the replica to replay the last commit")
        found = []

        def read(found=found):
            found.extend(User.objects.filter(username="committed"))

        with db_router.scope(), db_router.reading_everything_committed():
            served = aliases_that_read("accounts_user", read)
        if _primary_positions()[1] == boundary:  # the primary stayed idle throughout
            break
    else:
        pytest.fail("the primary never stayed idle long enough to check")
    assert served == {"replica"}
    assert [user.username for user in found] == ["committed"]
    wait_for_replica_to_catch_up(timeout=2)  # what the test suite waits on is reachable too
