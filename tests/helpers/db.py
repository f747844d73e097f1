"""Which database alias a piece of code reads."""

from __future__ import annotations

from django.db import connections


def aliases_that_read(table: str, action) -> set[str]:
    """Run ``action`` and return the database aliases whose queries read ``table``.

    (Like CaptureQueriesContext, but without connecting to every alias first: one test
    has a replica that is down.)
    """
    logs = {}
    for alias in connections:
        connection = connections[alias]
        connection.force_debug_cursor = True
        connection.queries_log.clear()
        logs[alias] = connection
    try:
        action()
    finally:
        for connection in logs.values():
            connection.force_debug_cursor = False
    return {
        alias for alias, connection in logs.items() if any(is_read_of(table, q["sql"]) for q in connection.queries_log)
    }


def is_read_of(table: str, sql: str) -> bool:
    # Token lookups missing the cache read the primary (see accounts.tokens): not counted.
    return sql.lstrip().upper().startswith("SELECT") and table in sql and "knox_authtoken" not in sql
