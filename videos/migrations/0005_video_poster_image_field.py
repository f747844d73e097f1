"""The poster becomes an image field on the default storage.

Same column (``db_column`` keeps ``poster_key``), same type (``varchar(255)``) and the
same stored keys: the field changes first, so the rename that follows moves no column.
No SQL at all.
"""

from django.db import migrations, models

import videos.models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0004_video_feed_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="video",
            name="poster_key",
            field=models.ImageField(
                blank=True, db_column="poster_key", max_length=255, upload_to=videos.models.poster_upload_to
            ),
        ),
        migrations.RenameField(model_name="video", old_name="poster_key", new_name="poster"),
    ]
