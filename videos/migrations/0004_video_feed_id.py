"""``Video.feed_id``: the integer, time-ordered member of Redis feeds (``videos.models``).

One transaction: the sequence, the nullable column, a backfill numbering existing rows in
(created_at, id) order, the sequence moved past them, then the default, NOT NULL and the
unique constraint. ``ADD COLUMN`` takes the table's exclusive lock until the commit, so no
row is inserted without an id meanwhile. On a million rows the backfill rewrites the table
once (seconds to a minute), then the unique index and the feed index are built.
"""

from django.db import migrations, models

SEQUENCE = "videos_video_feed_id_seq"

BACKFILL = f"""
UPDATE videos_video v SET feed_id = numbered.n
FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM videos_video) numbered
WHERE v.id = numbered.id;
SELECT setval('{SEQUENCE}', COALESCE((SELECT max(feed_id) FROM videos_video), 0) + 1, false);
"""


class Migration(migrations.Migration):
    dependencies = [("videos", "0003_search_indexes")]

    operations = [
        migrations.RunSQL(f"CREATE SEQUENCE {SEQUENCE}", reverse_sql=f"DROP SEQUENCE IF EXISTS {SEQUENCE}"),
        migrations.AddField(model_name="video", name="feed_id", field=models.BigIntegerField(null=True)),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="video",
            name="feed_id",
            field=models.BigIntegerField(
                db_default=models.Func(
                    models.Value(SEQUENCE), function="nextval", output_field=models.BigIntegerField()
                ),
                editable=False,
                unique=True,
            ),
        ),
        # Dropping the column (or the table) drops the sequence with it.
        migrations.RunSQL(
            f"ALTER SEQUENCE {SEQUENCE} OWNED BY videos_video.feed_id", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.RemoveIndex(model_name="video", name="video_published"),
        migrations.AddIndex(
            model_name="video",
            index=models.Index(fields=["-published_at", "-feed_id"], name="video_published_feed"),
        ),
    ]
