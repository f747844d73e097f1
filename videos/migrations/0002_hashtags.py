import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("videos", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="Hashtag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                ("video_count", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["name"], name="hashtag_name_prefix", opclasses=["varchar_pattern_ops"])
                ],
            },
        ),
        migrations.CreateModel(
            name="VideoHashtag",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "hashtag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="video_links", to="videos.hashtag"
                    ),
                ),
                (
                    "video",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="hashtag_links", to="videos.video"
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["hashtag", "video"], name="video_hashtag_by_tag")],
                "constraints": [models.UniqueConstraint(fields=("video", "hashtag"), name="video_hashtag_unique")],
            },
        ),
    ]
