"""Cohorts by follow count for ``bench/run.py``: the feed's p99 as follows grow.

Each cohort is ``users`` users ``benchcohort_<follows>_<i>`` (created once per bench
database, with a DRF token) who follow ``follows`` creators drawn at random among the
bench users (``min(follows, users - 1)`` on a data set too small for it). Their feeds are
rebuilt like the main cohort's before they are read.
"""

from __future__ import annotations

from pathlib import Path

COHORT_FOLLOWS = (100, 1000, 5000)
COHORT_USERS = 20


def cohort_name(follows: int) -> str:
    return f"feed_f{follows}"


def prepare(
    *, primary_url: str, workdir: Path, exclude: list[str], follows_sizes=COHORT_FOLLOWS, users: int = COHORT_USERS
) -> dict:
    """Create (once) and describe the cohorts; returns {name: {follows, user_ids, tokens}}.

    ``exclude``: usernames never followed (the fan-out creators, whose audiences are exact).
    """
    import psycopg

    from accounts.models import User
    from bench.tokens import bench_token, token_row

    cohorts = {}
    with psycopg.connect(primary_url, autocommit=True) as connection:
        total = connection.execute("SELECT count(*) FROM accounts_user WHERE username LIKE 'bench\\_%%'").fetchone()[0]
        for follows in follows_sizes:
            wanted = min(follows, total - 1)
            user_ids = []
            for index in range(users):
                user, created = User.objects.get_or_create(username=f"benchcohort_{follows}_{index}")
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                user_id = user.pk
                connection.execute(
                    "INSERT INTO knox_authtoken (digest, token_key, created, user_id) VALUES (%s, %s, now(), %s) "
                    "ON CONFLICT DO NOTHING",
                    [*token_row(user_id), user_id],
                )
                user_ids.append(user_id)
                connection.execute(
                    """
                    INSERT INTO activity_follow (follower_id, followee_id, created_at)
                    SELECT %(user)s, id, now() FROM accounts_user
                    WHERE username LIKE 'bench\\_%%' AND id <> %(user)s AND NOT username = ANY(%(exclude)s)
                    ORDER BY md5(id::text || %(user)s::text) LIMIT %(wanted)s
                    ON CONFLICT DO NOTHING
                    """,
                    {"user": user_id, "wanted": wanted, "exclude": exclude},
                )
                connection.execute(
                    "DELETE FROM activity_follow WHERE follower_id = %(user)s AND followee_id IN "
                    "(SELECT id FROM accounts_user WHERE username = ANY(%(exclude)s))",
                    {"user": user_id, "exclude": exclude},
                )
                connection.execute(
                    "UPDATE accounts_user SET following_count = "
                    "(SELECT count(*) FROM activity_follow WHERE follower_id = %(user)s), last_seen_at = now() "
                    "WHERE id = %(user)s",
                    {"user": user_id},
                )
            path = workdir / f"tokens-{cohort_name(follows)}.txt"
            path.write_text("".join(f"{bench_token(user_id)}\n" for user_id in user_ids))
            cohorts[cohort_name(follows)] = {"follows": wanted, "user_ids": user_ids, "tokens": path}
    return cohorts
