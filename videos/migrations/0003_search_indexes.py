"""Search indexes (``accounts.search``, ``videos.search``), built without blocking writes.

pg_trgm ships with PostgreSQL's contrib and is a trusted extension (PostgreSQL 13+):
the database owner may create it without superuser rights. The user indexes live here
rather than in ``accounts`` because search is what needs them; they are expression
indexes the ``User`` model does not declare.
"""

from django.db import migrations

INDEXES = {
    # Username prefix (``lower(username) LIKE 'al%'``) whatever the collation.
    "accounts_user_username_prefix": "accounts_user (lower(username) text_pattern_ops)",
    # Typo-tolerant matching (``%s <%% lower(username)``) and display-name word prefixes.
    "accounts_user_username_trgm": "accounts_user USING gin (lower(username) gin_trgm_ops)",
    "accounts_user_display_name_trgm": "accounts_user USING gin (lower(display_name) gin_trgm_ops)",
    # Full text over captions (hashtags included: ``#cats`` is the word ``cats``).
    "videos_video_caption_search": "videos_video USING gin (search_vector)",
}

# The caption's words, stored: matching and ranking read it instead of parsing every
# caption again (on a million videos that is most of a query's time). Not a model field:
# nothing but ``videos.search`` reads it, and PostgreSQL keeps it current on every write.
# Adding it rewrites the table once, under a lock (seconds per million rows).
SEARCH_VECTOR = """
ALTER TABLE videos_video ADD COLUMN IF NOT EXISTS search_vector tsvector
GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, coalesce(caption, ''))) STORED
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0003_moderators_group"),
        ("videos", "0002_hashtags"),
    ]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop),
        migrations.RunSQL(SEARCH_VECTOR, reverse_sql="ALTER TABLE videos_video DROP COLUMN IF EXISTS search_vector"),
        *[
            migrations.RunSQL(
                f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}",
                reverse_sql=f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
            )
            for name, target in INDEXES.items()
        ],
    ]
