"""An expand migration of the kind a release ships: a nullable column and an index on a
table taking inserts (comments), applied while the old release serves."""

from django.db import migrations


class Migration(migrations.Migration):
    atomic = False  # the index is built CONCURRENTLY
    dependencies = [("activity", "__first__")]
    operations = [
        migrations.RunSQL(
            "SET lock_timeout = '2s'; ALTER TABLE activity_comment ADD COLUMN IF NOT EXISTS deploy_note text",
            "ALTER TABLE activity_comment DROP COLUMN IF EXISTS deploy_note",
        ),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS activity_comment_deploy_note ON activity_comment (deploy_note)",
            "DROP INDEX CONCURRENTLY IF EXISTS activity_comment_deploy_note",
        ),
    ]
