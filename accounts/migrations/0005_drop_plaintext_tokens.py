"""API tokens move to django-rest-knox (hashed, per device, expiring).

DRF's ``authtoken_token`` held every token in plain text, one per user. It is dropped,
not converted: a digest cannot be computed for the old tokens without keeping them, and
keeping them is what this change ends. Every client logs in again once.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_avatar"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token CASCADE", migrations.RunSQL.noop),
        migrations.RunSQL("DELETE FROM django_migrations WHERE app = 'authtoken'", migrations.RunSQL.noop),
    ]
