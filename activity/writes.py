"""The one-statement relation writes that follows, likes, favorites, blocks and mutes share.

Every relation write is idempotent: a unique constraint plus ``INSERT ... ON CONFLICT
DO NOTHING`` make a repeated request a no-op, and the caller learns whether a row was
really inserted or deleted, so only a real change moves a counter or starts a task.
``insert_to_target`` and ``delete_to_target`` check the target, change the row and record
the tasks the change starts in the outbox in one statement (one round trip, one commit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connections
from django.db.models import Model, QuerySet
from django.utils import timezone

from tiktok import db_router
from tiktok.db_router import PRIMARY
from tiktok.outbox import Task, publish_on_commit, record_sql, recorded_sql

PREPARE_THRESHOLD = 5  # psycopg's default; the like/follow statements ask to be prepared at once


def insert_ignoring_conflict(model: type[Model], **values) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``; True if a row was really inserted.

    ``bulk_create(ignore_conflicts=True)`` cannot tell an insert from a conflict, and
    ``get_or_create`` makes Postgres log an error on every race; this does neither.
    """
    values = {"created_at": timezone.now(), **values}
    columns = [model._meta.get_field(name).column for name in values]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from the model
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING RETURNING id"
    )
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(sql, list(values.values()))
        inserted = cursor.fetchone() is not None
    if inserted:
        db_router.mark_write()  # raw SQL: tell the router this scope wrote (read-your-writes)
    return inserted


class _PreparingCursor(psycopg.Cursor):
    """Server-side binding, every statement prepared on its connection at first use.

    Django's cursors bind client-side, so PostgreSQL plans each like or follow statement
    anew (~0.5 ms of a ~1.3 ms statement). A statement's text here depends only on the
    code, so psycopg prepares it once per connection (its cache is the connection's:
    a new connection, after ``CONN_MAX_AGE`` or a failover, prepares again; this needs a
    session per client, as direct connections are, not a transaction-pooling proxy).
    """

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


def _prepared_cursor():
    """A ``_PreparingCursor`` on the primary's connection, wrapped as Django wraps its own
    (error translation, query logging in tests and ``DEBUG``)."""
    connection = connections[PRIMARY]
    connection.ensure_connection()
    # Django switches psycopg's statement cache off (None) for the sake of transaction
    # poolers; its own cursors bind client-side and never prepare, so turning the cache on
    # changes nothing but this cursor.
    connection.connection.prepare_threshold = PREPARE_THRESHOLD
    cursor = _PreparingCursor(connection.connection)
    return connection.make_debug_cursor(cursor) if connection.queries_logged else connection.make_cursor(cursor)


@dataclass(frozen=True)
class Changed:
    changed: bool  # False: nothing to insert or delete (a repeated request)
    target: dict[str, Any]  # the target row's selected values


def _change_with_target(change_sql: str, change_params: list, *, target: QuerySet, tasks: list[Task]) -> Changed | None:
    """Check the target, change the relation to it and record the ``tasks`` the change
    starts in the outbox, all in one statement: one round trip and one commit.

    ``target`` is a ``.values(...)`` queryset (with ``id``) of at most one row whose filters
    are the checks (visible, not blocked ...): the ORM's own filters, compiled here, so who
    may see what keeps one definition. ``change_sql`` inserts or deletes the relation row
    of the CTE ``target``, ``RETURNING 1``; the tasks are recorded only if it did
    (``tiktok.outbox.record_sql``) and published after the commit. None when ``target``
    has no row; else whether a row changed, and the target's values.
    """
    target_sql, target_params = target.query.get_compiler(using=PRIMARY).as_sql()
    queue_sql, queue_params = record_sql(tasks, when="changed")
    sql = (
        f"WITH target AS ({target_sql}), changed AS ({change_sql}), queued AS ({queue_sql}) "  # noqa: S608 - from code
        f"SELECT EXISTS (SELECT 1 FROM changed), {recorded_sql('queued')}, target.* FROM target"
    )
    with _prepared_cursor() as cursor:
        cursor.execute(sql, [*target_params, *change_params, *queue_params])
        row = cursor.fetchone()
        names = [column.name for column in cursor.description[2:]]
    if row is None:
        return None
    changed, queued = row[0], row[1]
    if changed:
        db_router.mark_write()  # raw SQL: tell the router this scope wrote (read-your-writes)
        publish_on_commit(queued)
    return Changed(changed=changed, target=dict(zip(names, row[2:], strict=True)))


def insert_to_target(
    model: type[Model], *, target: QuerySet, target_field: str, tasks: list[Task], **values
) -> Changed | None:
    """``INSERT ... SELECT`` the relation row to ``target`` with ``values``, ``ON CONFLICT
    DO NOTHING`` (see ``_change_with_target``)."""
    values = {"created_at": timezone.now(), **values}
    columns = [model._meta.get_field(name).column for name in [*values, target_field]]
    insert = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "  # noqa: S608 - identifiers from the model
        f"SELECT {', '.join(['%s'] * len(values))}, target.id FROM target ON CONFLICT DO NOTHING RETURNING 1"
    )
    return _change_with_target(insert, list(values.values()), target=target, tasks=tasks)


def delete_to_target(
    model: type[Model], *, target: QuerySet, target_field: str, tasks: list[Task], **values
) -> Changed | None:
    """``DELETE`` the relation row to ``target`` matching ``values`` (see ``_change_with_target``)."""
    matches = [f"relation.{model._meta.get_field(name).column} = %s" for name in values]
    delete = (
        f"DELETE FROM {model._meta.db_table} AS relation USING target "  # noqa: S608 - identifiers from the model
        f"WHERE {' AND '.join(matches)} AND relation.{model._meta.get_field(target_field).column} = target.id "
        "RETURNING 1"
    )
    return _change_with_target(delete, list(values.values()), target=target, tasks=tasks)
