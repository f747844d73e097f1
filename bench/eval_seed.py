"""The data set of ``manage.py eval_for_you``: users with interests, loaded with COPY.

Interest structure (see BENCHMARKS.md, "Offline evaluation of For You"):

* ``topics`` topics, each with ``TAGS_PER_TOPIC`` hashtags (``#cooking``, ``#cookingtips``...),
  plus two generic tags (``#fyp``, ``#viral``) that say nothing about interest;
* creators (users ``1..creators``) have a main topic and a popularity (Zipf); a video is
  about its creator's topic (``ON_TOPIC``, else a random one), its caption carries two of
  that topic's hashtags (and ``#fyp`` sometimes), its quality is log-normal;
* every user has topic affinities drawn from a sparse Dirichlet (``AFFINITY_ALPHA``) that
  drive who they follow (affinity of the creator's topic x popularity), what they like
  (a topic by affinity, then a video of it by quality x popularity; some likes go to
  followed creators, some to globally popular videos), when (soon after publication) and
  what they watch: a completed view for every like, more completed views in their topics
  and skips (views under 2 s) of other topics.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from accounts.models import User
from activity.models import Follow, Like, View
from bench.seeding import FOLLOW_COUNTERS_SQL, columns_of
from videos.models import FEED_ID_SEQUENCE, Hashtag, Video, VideoHashtag

TOPIC_NAMES = (
    "cooking fitness gaming travel music dance comedy pets fashion beauty diy cars tech "
    "books football art science gardening finance movies photography skate surf chess yoga"
).split()
TAG_SUFFIXES = ("", "tips", "life", "daily")
TAGS_PER_TOPIC = len(TAG_SUFFIXES)
GENERIC_TAGS = ("fyp", "viral")
ON_TOPIC = 0.85  # share of a creator's videos about their main topic
AFFINITY_ALPHA = 0.25  # Dirichlet concentration: most users care about 2-4 topics
FOLLOWED_LIKES = 0.25  # share of likes that go to a followed creator's video
GLOBAL_LIKES = 0.10  # share of likes that go to a popular video whatever its topic
LIKE_DELAY_HOURS = 18.0  # mean delay from publication to a like (exponential)
HISTORY = timedelta(days=28)
CHUNK_ROWS = 50_000


@dataclass
class EvalSpec:
    users: int = 3_000
    creators: int = 300
    videos: int = 15_000
    likes: int = 150_000
    topics: int = 20
    seed: int = 20261127


class EvalSeeder:
    """Generates the data set with one seeded RNG and COPYs it into ``cursor``'s database."""

    def __init__(self, spec: EvalSpec, *, now: datetime | None = None):
        if spec.topics > len(TOPIC_NAMES):
            raise ValueError(f"at most {len(TOPIC_NAMES)} topics")
        if not 0 < spec.creators < spec.users:
            raise ValueError("creators must be fewer than users")
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.now = (now or datetime.now(tz=UTC)).replace(microsecond=0)

    def load(self, cursor) -> dict:
        cursor.execute(
            f"TRUNCATE {User._meta.db_table}, {Video._meta.db_table}, {Hashtag._meta.db_table} CASCADE"  # noqa: S608
        )
        self._interests()
        self._load_users(cursor)
        self._load_hashtags(cursor)
        self._load_videos(cursor)
        follows = self._load_follows(cursor)
        likes, views = self._load_engagement(cursor)
        self._counters(cursor)
        return {"follows": follows, "likes": likes, "views": views}

    # --- the model ------------------------------------------------------------------------

    def _dirichlet(self, size: int, alpha: float) -> list[float]:
        draws = [self.rng.gammavariate(alpha, 1.0) + 1e-9 for _ in range(size)]
        total = sum(draws)
        return [value / total for value in draws]

    def _interests(self) -> None:
        spec, rng = self.spec, self.rng
        self.affinity = {user: self._dirichlet(spec.topics, AFFINITY_ALPHA) for user in range(1, spec.users + 1)}
        creators = list(range(1, spec.creators + 1))
        self.main_topic = {creator: rng.randrange(spec.topics) for creator in creators}
        ranks = list(range(1, spec.creators + 1))
        rng.shuffle(ranks)
        self.popularity = {creator: rank**-0.8 for creator, rank in zip(creators, ranks, strict=True)}

    # --- rows -------------------------------------------------------------------------------

    def _copy(self, cursor, model, generated: list[str], rows) -> None:
        columns, constant = columns_of(model, generated)
        with cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
            while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
                copy.write("".join(f"{row}{constant}\n" for row in chunk))

    @staticmethod
    def _set_sequence(cursor, model, value: int) -> None:
        table = model._meta.db_table
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {max(value, 1)})")

    def _load_users(self, cursor) -> None:
        joined = (self.now - timedelta(days=90)).isoformat()
        seen = self.now.isoformat()
        rows = (f"{user}\teval_{user}\t!unusable\t{joined}\t{seen}" for user in range(1, self.spec.users + 1))
        self._copy(cursor, User, ["id", "username", "password", "date_joined", "last_seen_at"], rows)
        self._set_sequence(cursor, User, self.spec.users)

    def _load_hashtags(self, cursor) -> None:
        names = [f"{TOPIC_NAMES[topic]}{suffix}" for topic in range(self.spec.topics) for suffix in TAG_SUFFIXES]
        names += GENERIC_TAGS
        self.tag_ids = {name: index for index, name in enumerate(names, start=1)}
        when = self.now.isoformat()
        rows = (f"{tag_id}\t{name}\t{when}" for name, tag_id in self.tag_ids.items())
        self._copy(cursor, Hashtag, ["id", "name", "created_at"], rows)
        self._set_sequence(cursor, Hashtag, len(names))

    def _load_videos(self, cursor) -> None:
        spec, rng = self.spec, self.rng
        creators = list(self.popularity)
        # Creators post in proportion to the square root of their popularity.
        owners = rng.choices(creators, weights=[math.sqrt(self.popularity[c]) for c in creators], k=spec.videos)
        end, span = self.now.timestamp(), HISTORY.total_seconds()
        self.videos: list[tuple[str, int, int, float, float, float]] = []  # id, owner, topic, published, q, duration
        links: list[tuple[str, int]] = []
        video_rows = []
        for index, owner in enumerate(owners):
            video_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            topic = self.main_topic[owner] if rng.random() < ON_TOPIC else rng.randrange(spec.topics)
            published = end - rng.random() * span
            quality = rng.lognormvariate(0.0, 0.7)
            duration = round(rng.uniform(8, 60), 2)
            self.videos.append((video_id, owner, topic, published, quality, duration))
            tags = [f"{TOPIC_NAMES[topic]}{suffix}" for suffix in rng.sample(TAG_SUFFIXES, 2)]
            if rng.random() < 0.4:
                tags.append(rng.choice(GENERIC_TAGS))
            links += [(video_id, self.tag_ids[name]) for name in tags]
            caption = f"clip {index} " + " ".join(f"#{name}" for name in tags)
            when = datetime.fromtimestamp(published, tz=UTC).isoformat()
            video_rows.append(
                f"{video_id}\t{owner}\t{caption}\tready\tvisible\tvideo/mp4\t{rng.randint(10**5, 10**7)}"
                f"\t{when}\toriginals/{owner}/{video_id}\tprocessed/{video_id}/poster.jpg"
                f"\tprocessed/{video_id}/master.m3u8\t[]\t{duration}\t720\t1280\t{when}\t{when}\t{when}"
            )
        generated = ["id", "owner_id", "caption", "status", "moderation", "content_type", "size_bytes"]
        generated += ["upload_expires_at", "original_key", "poster_key", "hls_master_key", "renditions"]
        generated += ["duration", "width", "height", "created_at", "updated_at", "published_at", "feed_id"]
        # Feed ids follow publication, as they do when videos are published one by one.
        by_publication = sorted(range(len(self.videos)), key=lambda index: self.videos[index][3])
        feed_ids = {index: n for n, index in enumerate(by_publication, start=1)}
        rows = (f"{row}\t{feed_ids[index]}" for index, row in enumerate(video_rows))
        self._copy(cursor, Video, generated, rows)
        cursor.execute("SELECT setval(%s, %s)", [FEED_ID_SEQUENCE, len(video_rows)])
        rows = (f"{n}\t{video}\t{tag}" for n, (video, tag) in enumerate(links, start=1))
        self._copy(cursor, VideoHashtag, ["id", "video_id", "hashtag_id"], rows)
        self._set_sequence(cursor, VideoHashtag, len(links))

    def _load_follows(self, cursor) -> int:
        spec, rng = self.spec, self.rng
        creators = list(self.popularity)
        self.follows: dict[int, list[int]] = {}
        rows = []
        start = (self.now - timedelta(days=60)).timestamp()
        for user, affinity in self.affinity.items():
            wanted = min(int(rng.lognormvariate(math.log(12), 0.8)), spec.creators // 2)
            weights = [(affinity[self.main_topic[c]] + 0.01) * self.popularity[c] for c in creators]
            chosen = {c for c in rng.choices(creators, weights=weights, k=wanted) if c != user}
            self.follows[user] = sorted(chosen)
            for creator in self.follows[user]:
                when = datetime.fromtimestamp(start + rng.random() * 55 * 86400, tz=UTC).isoformat()
                rows.append(f"{len(rows) + 1}\t{user}\t{creator}\t{when}")
        self._copy(cursor, Follow, ["id", "follower_id", "followee_id", "created_at"], iter(rows))
        self._set_sequence(cursor, Follow, len(rows))
        return len(rows)

    def _load_engagement(self, cursor) -> tuple[int, int]:
        spec, rng = self.spec, self.rng
        end = self.now.timestamp()
        by_topic: dict[int, list[int]] = {topic: [] for topic in range(spec.topics)}
        by_owner: dict[int, list[int]] = {}
        for index, (_, owner, topic, *_rest) in enumerate(self.videos):
            by_topic[topic].append(index)
            by_owner.setdefault(owner, []).append(index)

        def appeal(index: int) -> float:
            return self.videos[index][4] * self.popularity[self.videos[index][1]]

        topic_cum = {t: list(itertools.accumulate(appeal(i) for i in vs)) for t, vs in by_topic.items()}
        everything = list(range(len(self.videos)))
        global_cum = list(itertools.accumulate(appeal(i) for i in everything))

        def pick(indexes: list[int], cum: list[float]) -> int:
            return indexes[bisect.bisect_left(cum, rng.random() * cum[-1])]

        activity = {user: rng.lognormvariate(0.0, 0.9) for user in self.affinity}
        total_activity = sum(activity.values())
        like_rows, view_rows = [], []
        for user, affinity in self.affinity.items():
            wanted = max(3, min(round(spec.likes * activity[user] / total_activity), 800))
            liked: set[int] = set()
            followed = [i for creator in self.follows[user] for i in by_owner.get(creator, [])]
            for _ in range(wanted * 3):
                if len(liked) >= wanted:
                    break
                draw = rng.random()
                if draw < GLOBAL_LIKES:
                    index = pick(everything, global_cum)
                elif draw < GLOBAL_LIKES + FOLLOWED_LIKES and followed:
                    index = rng.choice(followed)
                    if rng.random() > affinity[self.videos[index][2]] * 3:
                        continue  # a followed creator's video off the user's topics: mostly not liked
                else:
                    topic = rng.choices(range(spec.topics), weights=affinity)[0]
                    if not by_topic[topic]:
                        continue
                    index = pick(by_topic[topic], topic_cum[topic])
                liked.add(index)
            for index in liked:
                video_id, _, _, published, _, duration = self.videos[index]
                at = published + rng.expovariate(1 / (LIKE_DELAY_HOURS * 3600))
                if at >= end:
                    at = published + rng.random() * (end - published)
                like_rows.append(f"{len(like_rows) + 1}\t{user}\t{video_id}\t{_iso(at)}")
                view_rows.append(f"{len(view_rows) + 1}\t{user}\t{video_id}\t{int(duration * 1000)}\t{_iso(at - 5)}")
            # Watched without a like: completions in the user's topics, skips of others.
            for _ in range(len(liked)):
                index = rng.randrange(len(self.videos))
                if index in liked:
                    continue
                video_id, _, topic, published, _, duration = self.videos[index]
                completed = rng.random() < affinity[topic] * 2
                watched = int(duration * 1000) if completed else rng.randint(300, 1900)
                at = published + rng.random() * (end - published)
                view_rows.append(f"{len(view_rows) + 1}\t{user}\t{video_id}\t{watched}\t{_iso(at)}")
        self._copy(cursor, Like, ["id", "user_id", "video_id", "created_at"], iter(like_rows))
        self._copy(cursor, View, ["id", "viewer_id", "video_id", "watched_ms", "created_at"], iter(view_rows))
        self._set_sequence(cursor, Like, len(like_rows))
        self._set_sequence(cursor, View, len(view_rows))
        return len(like_rows), len(view_rows)

    def _counters(self, cursor) -> None:
        recount_counters(cursor)
        cursor.execute(FOLLOW_COUNTERS_SQL)
        cursor.execute(
            "UPDATE videos_hashtag h SET video_count = s.n FROM (SELECT hashtag_id, count(*) AS n"
            " FROM videos_videohashtag GROUP BY hashtag_id) s WHERE h.id = s.hashtag_id"
        )


def recount_counters(cursor) -> None:
    """Videos' like and view counters from the rows (after seeding and after the hold-out)."""
    cursor.execute(
        """
        UPDATE videos_video v SET likes_count = COALESCE(l.n, 0), views_count = COALESCE(w.n, 0)
        FROM videos_video v2
        LEFT JOIN (SELECT video_id, count(*) AS n FROM activity_like GROUP BY video_id) l ON l.video_id = v2.id
        LEFT JOIN (SELECT video_id, count(*) AS n FROM activity_view GROUP BY video_id) w ON w.video_id = v2.id
        WHERE v.id = v2.id
        """
    )


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat()
