"""Load a synthetic data set for the benchmarks (``bench/run.py``) with PostgreSQL COPY.

Users ``bench_<n>`` (one password hash computed once and shared, one knox token each:
``bench.tokens``), a
power-law follow graph, videos published over four weeks (metadata only: ready, visible,
fake object keys), likes and comments. The denormalised counters are set afterwards with
set-based UPDATEs.

Shape of the follow graph (see BENCHMARKS.md):

* ``bench_1``, ``bench_2``, ... are the *fan-out creators*: followed by exactly the sizes
  of ``fanout`` (e.g. 100,000 and 10,000 followers), drawn uniformly.
* every other creator's expected audience falls as ``rank ** -alpha`` (``alpha`` solved so
  the top one reaches about half the users and the total matches ``follows``);
* most users follow tens to a couple of hundred creators (log-normal), and a *cohort*
  follows about 800 (the users of the feed-vs-SQL comparison, ``following_count >= 500``).

The target database is ``DATABASE_URL`` and it is emptied first: point it at a bench
database (``tiktok_bench_<size>``), never at the application's. Indexes, unique and
foreign-key constraints of the loaded tables are dropped around COPY and rebuilt after,
then every table is vacuumed and analysed.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from accounts.models import User
from activity.models import Comment, Follow, Like
from bench.seeding import FOLLOW_COUNTERS_SQL, Progress, columns_of, power_law_alpha
from bench.tokens import token_row
from videos.models import Video

SIZES: dict[str, dict] = {
    "small": {
        "users": 1_500,
        "follows": 30_000,
        "videos": 3_000,
        "likes": 6_000,
        "comments": 600,
        "cohort": 10,
        "fanout": [1_000],
    },
    "large": {
        "users": 120_000,
        "follows": 10_000_000,
        "videos": 1_000_000,
        "likes": 3_000_000,
        "comments": 300_000,
        "cohort": 2_000,
        "fanout": [100_000, 10_000],
    },
}
PASSWORD = "bench-password-123"  # noqa: S105 - synthetic users of a throwaway database
COHORT_FOLLOWS = 800  # follows drawn per cohort user (a few collide: ~700 distinct)
HISTORY = timedelta(days=28)  # videos are published over this span, up to now
CHUNK_ROWS = 50_000


class Command(BaseCommand):
    help = "Load the synthetic benchmark data set into DATABASE_URL (emptied first) with COPY."

    def add_arguments(self, parser):
        parser.add_argument("--size", choices=sorted(SIZES), default="small")
        for name in ("users", "follows", "videos", "likes", "comments", "cohort"):
            parser.add_argument(f"--{name}", type=int, help=f"override the size's number of {name}")
        parser.add_argument("--fanout", help="comma-separated exact audiences of the fan-out creators")
        parser.add_argument("--seed", type=int, default=20240501, help="random seed (same seed, same data)")
        parser.add_argument("--yes", action="store_true", help="do not ask before emptying a non-bench database")

    def handle(self, *args, **options):
        spec = dict(SIZES[options["size"]])
        for name in ("users", "follows", "videos", "likes", "comments", "cohort"):
            if options[name] is not None:
                spec[name] = options[name]
        if options["fanout"]:
            spec["fanout"] = [int(value) for value in options["fanout"].split(",") if value]
        database = settings.DATABASES["default"]
        if "bench" not in database["NAME"] and not options["yes"]:
            raise CommandError(f"Refusing to empty database {database['NAME']!r}: its name lacks 'bench' (--yes).")
        if max(spec["fanout"], default=0) >= spec["users"]:
            raise CommandError("Every fan-out audience must be smaller than the number of users.")
        self.out = sys.stdout
        self.rng = random.Random(options["seed"])
        self.now = datetime.now(tz=UTC).replace(microsecond=0)
        started = time.monotonic()
        timings: dict[str, float] = {}
        self.out.write(f"seed_bench: {options['size']} into {database['NAME']}: {spec}\n")
        with psycopg.connect(
            host=database["HOST"],
            port=database["PORT"],
            dbname=database["NAME"],
            user=database["USER"],
            password=database["PASSWORD"],
            autocommit=True,
        ) as connection:
            cursor = connection.cursor()
            cursor.execute("SET maintenance_work_mem = '1GB'")
            cursor.execute("SET max_parallel_maintenance_workers = 2")
            cursor.execute("SET synchronous_commit = off")
            tables = [
                User._meta.db_table,
                AuthToken._meta.db_table,
                Video._meta.db_table,
                Follow._meta.db_table,
                Like._meta.db_table,
                Comment._meta.db_table,
            ]
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            step = time.monotonic()
            saved = self._drop_indexes(cursor, tables)
            timings["drop_indexes"] = time.monotonic() - step

            graph_started = time.monotonic()
            follows, popularity = self._follow_graph(spec)
            timings["generate_graph"] = time.monotonic() - graph_started
            timings["users"] = self._load_users(cursor, spec)
            timings["follows"] = self._load_follows(cursor, follows, spec["users"])
            del follows
            video_times, timings["videos"] = self._load_videos(cursor, spec, popularity)
            timings["likes"] = self._load_likes(cursor, spec, video_times)
            timings["comments"] = self._load_comments(cursor, spec, video_times)

            step = time.monotonic()
            self._set_counters(cursor)
            timings["counters"] = time.monotonic() - step
            step = time.monotonic()
            self._restore_indexes(cursor, saved)
            timings["indexes"] = time.monotonic() - step
            step = time.monotonic()
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            timings["vacuum_analyze"] = time.monotonic() - step
            cursor.execute(
                "SELECT count(*) FILTER (WHERE following_count >= 500), max(followers_count) FROM accounts_user"
            )
            cohort, biggest = cursor.fetchone()
        total = time.monotonic() - started
        summary = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        self.out.write(
            f"seed_bench: done in {total:.1f} s ({summary}); {cohort} users follow 500+ creators;"
            f" biggest audience {biggest:,}\n"
        )

    # --- indexes ----------------------------------------------------------------------

    def _drop_indexes(self, cursor, tables: list[str]) -> dict[str, list]:
        """Drop constraints (FK, PK, unique) and indexes of ``tables``; return how to rebuild them."""
        cursor.execute(
            """
            SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
            FROM pg_constraint c
            WHERE c.contype IN ('f', 'p', 'u')
              AND (c.conrelid = ANY(%s::regclass[]) OR c.confrelid = ANY(%s::regclass[]))
            """,
            [tables, tables],
        )
        constraints = cursor.fetchall()
        foreign = [row for row in constraints if row[3] == "f"]
        keys = [row for row in constraints if row[3] != "f" and row[1] in tables]
        for name, table, _, _ in foreign + keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[])
            """,
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
        return {"keys": keys, "indexes": indexes, "foreign": foreign}

    def _restore_indexes(self, cursor, saved: dict[str, list]) -> None:
        statements = [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}' for name, table, sql, _ in saved["keys"]]
        statements += [sql for _, sql in saved["indexes"]]
        statements += [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {sql}' for name, table, sql, _ in saved["foreign"]]
        progress = Progress("indexes", len(statements), self.out)
        for statement in statements:
            cursor.execute(statement)
            progress.add(1)
        progress.finish()

    # --- generation -------------------------------------------------------------------

    def _follow_graph(self, spec: dict) -> tuple[set[int], list[float]]:
        """Follow pairs encoded as ``follower_index * users + followee_index``, and each
        user's expected audience (used to weight who posts and gets liked)."""
        users, total, fanout = spec["users"], spec["follows"], spec["fanout"]
        rng = self.rng
        progress = Progress("graph", total, self.out)
        pairs: set[int] = set()
        for index, size in enumerate(fanout):
            followers = [user for user in rng.sample(range(users), size + 1) if user != index][:size]
            pairs.update(follower * users + index for follower in followers)
        progress.add(len(pairs))
        rest = total - len(pairs)
        if rest <= 0:
            raise CommandError("--follows must exceed the fan-out audiences.")

        # Expected audience of creator ranks 1..n (after the fan-out creators): the top
        # one reaches about half the users.
        ranked = users - len(fanout)
        alpha = power_law_alpha(ranked, rest / (users / 2))
        audience = [float(size) for size in fanout] + [(rank + 1) ** -alpha for rank in range(ranked)]
        scale = rest / sum(audience[len(fanout) :])
        audience[len(fanout) :] = [weight * scale for weight in audience[len(fanout) :]]
        followee_weights = [0.0] * len(fanout) + audience[len(fanout) :]

        # How many each user follows: log-normal (median tens, tail in the hundreds), and
        # the cohort about COHORT_FOLLOWS.
        candidates = list(range(len(fanout), users))
        cohort = set(rng.sample(candidates, min(spec["cohort"], len(candidates))))
        cohort_total = COHORT_FOLLOWS * len(cohort)
        if cohort_total >= rest:
            raise CommandError("The cohort alone needs more follows than --follows provides.")
        raw = [0.0 if user in cohort else rng.lognormvariate(0.0, 0.9) for user in range(users)]
        unit = (rest - cohort_total) / sum(raw)
        follower_weights = [COHORT_FOLLOWS if user in cohort else weight * unit for user, weight in enumerate(raw)]

        follower_cum = list(itertools.accumulate(follower_weights))
        followee_cum = list(itertools.accumulate(followee_weights))
        population = range(users)
        while len(pairs) < total:
            need = total - len(pairs)
            batch = min(int(need * 1.1) + 100, 2_000_000)
            followers = rng.choices(population, cum_weights=follower_cum, k=batch)
            followees = rng.choices(population, cum_weights=followee_cum, k=batch)
            before = len(pairs)
            pairs.update(f * users + c for f, c in zip(followers, followees, strict=True) if f != c)
            progress.add(len(pairs) - before)
        progress.finish()
        return pairs, audience

    def _timestamps(self, start: datetime, span: timedelta, count: int) -> list[str]:
        """A pool of ``count`` random COPY timestamps in [start, start + span), sorted."""
        seconds = span.total_seconds()
        return sorted((start + timedelta(seconds=self.rng.random() * seconds)).isoformat() for _ in range(count))

    # --- loading ----------------------------------------------------------------------

    def _copy(self, cursor, table: str, columns: list[str], rows, total: int, label: str) -> float:
        progress = Progress(label, total, self.out)
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            while True:
                chunk = list(itertools.islice(rows, CHUNK_ROWS))
                if not chunk:
                    break
                copy.write("".join(chunk))
                progress.add(len(chunk))
        return progress.finish()

    def _load_users(self, cursor, spec: dict) -> float:
        users = spec["users"]
        password = make_password(PASSWORD)
        joined = (self.now - timedelta(days=90)).isoformat()
        seen_pool = self._timestamps(self.now - timedelta(days=2), timedelta(days=2), 5_000)
        columns, constant = columns_of(User, ["id", "username", "password", "date_joined", "last_seen_at"])
        rng = self.rng
        rows = (
            f"{user_id}\tbench_{user_id}\t{password}\t{joined}\t{rng.choice(seen_pool)}{constant}\n"
            for user_id in range(1, users + 1)
        )
        elapsed = self._copy(cursor, User._meta.db_table, columns, rows, users, "users")
        created = self.now.isoformat()
        tokens = ("{}\t{}\t{}\t{}\n".format(*token_row(user_id), created, user_id) for user_id in range(1, users + 1))
        columns = ["digest", "token_key", "created", "user_id"]
        elapsed += self._copy(cursor, AuthToken._meta.db_table, columns, tokens, users, "tokens")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{User._meta.db_table}', 'id'), {users})")
        return elapsed

    def _load_follows(self, cursor, pairs: set[int], users: int) -> float:
        pool = self._timestamps(self.now - timedelta(days=60), timedelta(days=60), 20_000)
        rng = self.rng
        columns, constant = columns_of(Follow, ["id", "follower_id", "followee_id", "created_at"])
        rows = (
            f"{row_id}\t{pair // users + 1}\t{pair % users + 1}\t{rng.choice(pool)}{constant}\n"
            for row_id, pair in enumerate(pairs, start=1)
        )
        elapsed = self._copy(cursor, Follow._meta.db_table, columns, rows, len(pairs), "follows")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Follow._meta.db_table}', 'id'), {len(pairs)})")
        return elapsed

    def _load_videos(self, cursor, spec: dict, audience: list[float]) -> tuple[list[float], float]:
        """Videos of creators weighted by the square root of their audience."""
        count = spec["videos"]
        rng = self.rng
        owner_cum = list(itertools.accumulate(math.sqrt(size) + 0.5 for size in audience))
        owners = rng.choices(range(1, spec["users"] + 1), cum_weights=owner_cum, k=count)
        end = self.now.timestamp()
        span = HISTORY.total_seconds()
        published = [end - rng.random() * span for _ in range(count)]
        columns, constant = columns_of(
            Video,
            [
                "id",
                "owner_id",
                "caption",
                "status",
                "moderation",
                "content_type",
                "size_bytes",
                "upload_expires_at",
                "original_key",
                "poster_key",
                "hls_master_key",
                "renditions",
                "duration",
                "width",
                "height",
                "created_at",
                "updated_at",
                "published_at",
            ],
        )

        def rows():
            for index in range(count):
                video_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                owner = owners[index]
                when = datetime.fromtimestamp(published[index], tz=UTC).isoformat()
                yield (
                    f"{video_id}\t{owner}\tbench video {index}\tready\tvisible\tvideo/mp4\t{rng.randint(10**5, 10**7)}"
                    f"\t{when}\toriginals/{owner}/{video_id}\tprocessed/{video_id}/poster.jpg"
                    f"\tprocessed/{video_id}/master.m3u8\t[]\t{rng.uniform(5, 60):.2f}\t720\t1280"
                    f"\t{when}\t{when}\t{when}{constant}\n"
                )

        # The ids are needed again for likes and comments: generate them once, here.
        generated = rows()
        ids: list[str] = []

        def remember():
            for row in generated:
                ids.append(row[:36])
                yield row

        elapsed = self._copy(cursor, Video._meta.db_table, columns, remember(), count, "videos")
        self.video_ids = ids
        return published, elapsed

    def _engagement_rows(self, spec: dict, published: list[float], count: int, line):
        """Rows of (user, video, time after publication) with popular-ish videos favoured."""
        rng = self.rng
        videos = len(published)
        users = spec["users"]
        end = self.now.timestamp()
        pool: dict[int, str] = {}
        seen: set[tuple[int, int]] = set()
        row_id = 0
        while row_id < count:
            video = int(videos * rng.random() ** 2)
            user = rng.randint(1, users)
            if (user, video) in seen:
                continue
            seen.add((user, video))
            row_id += 1
            minute = int(min(published[video] + rng.random() * 172_800, end) // 60)
            when = pool.get(minute)
            if when is None:
                when = pool[minute] = datetime.fromtimestamp(minute * 60, tz=UTC).isoformat()
            yield line(row_id, user, self.video_ids[video], when)

    def _load_likes(self, cursor, spec: dict, published: list[float]) -> float:
        columns, constant = columns_of(Like, ["id", "user_id", "video_id", "created_at"])
        count = spec["likes"]
        rows = self._engagement_rows(
            spec, published, count, lambda row, user, video, when: f"{row}\t{user}\t{video}\t{when}{constant}\n"
        )
        elapsed = self._copy(cursor, Like._meta.db_table, columns, rows, count, "likes")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Like._meta.db_table}', 'id'), {max(count, 1)})")
        return elapsed

    def _load_comments(self, cursor, spec: dict, published: list[float]) -> float:
        columns, constant = columns_of(Comment, ["id", "author_id", "video_id", "created_at", "text", "state"])
        count = spec["comments"]
        rows = self._engagement_rows(
            spec,
            published,
            count,
            lambda row, user, video, when: f"{row}\t{user}\t{video}\t{when}\tbench comment {row}\tvisible{constant}\n",
        )
        elapsed = self._copy(cursor, Comment._meta.db_table, columns, rows, count, "comments")
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{Comment._meta.db_table}', 'id'), {max(count, 1)})")
        return elapsed

    def _set_counters(self, cursor) -> None:
        """Denormalised counters from the loaded rows, then compact the updated tables."""
        self.out.write("  counters   followers, following, likes, comments\n")
        cursor.execute(FOLLOW_COUNTERS_SQL)
        cursor.execute(
            """
            UPDATE videos_video v SET likes_count = s.likes, comments_count = s.comments
            FROM (
                SELECT video_id, sum(likes) AS likes, sum(comments) AS comments FROM (
                    SELECT video_id, count(*) AS likes, 0 AS comments FROM activity_like GROUP BY video_id
                    UNION ALL
                    SELECT video_id, 0, count(*) FROM activity_comment WHERE state = 'visible' GROUP BY video_id
                ) parts GROUP BY video_id
            ) s
            WHERE v.id = s.video_id
            """
        )
        # Each UPDATE left a dead copy of every row; without indexes a rewrite is cheap.
        cursor.execute("VACUUM FULL accounts_user")
        cursor.execute("VACUUM FULL videos_video")
