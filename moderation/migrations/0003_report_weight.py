"""Reports carry a weight (existing ones keep 1: they counted fully when they were made);
an index for the per-video hourly cap."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0002_report_moved_to_moderation"),
        ("moderation", "0002_permissions_follow_the_models"),
        ("videos", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="report",
            name="weight",
            field=models.DecimalField(decimal_places=3, default=1, max_digits=4),
        ),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["video", "created_at"], name="report_video_created"),
        ),
    ]
