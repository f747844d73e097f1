"""The processed avatar sizes become image fields on the default storage.

Same columns (``db_column`` keeps ``avatar_key`` and ``avatar_thumbnail_key``), same type
(``varchar(200)``) and the same stored keys: the fields change first, so the rename that
follows moves no column. No SQL at all.
"""

from django.db import migrations, models

import accounts.models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_normalize_usernames"),
    ]

    operations = [
        migrations.AlterField(
            model_name="user",
            name="avatar_key",
            field=models.ImageField(
                blank=True, db_column="avatar_key", max_length=200, upload_to=accounts.models.avatar_upload_to
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="avatar_thumbnail_key",
            field=models.ImageField(
                blank=True, db_column="avatar_thumbnail_key", max_length=200, upload_to=accounts.models.avatar_upload_to
            ),
        ),
        migrations.RenameField(model_name="user", old_name="avatar_key", new_name="avatar"),
        migrations.RenameField(model_name="user", old_name="avatar_thumbnail_key", new_name="avatar_thumbnail"),
    ]
