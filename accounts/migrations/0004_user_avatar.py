from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_moderators_group"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="avatar_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_thumbnail_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_upload_key",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_upload_content_type",
            field=models.CharField(blank=True, max_length=100),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_upload_size_bytes",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_status",
            field=models.CharField(
                blank=True,
                choices=[
                    ("", "none"),
                    ("awaiting_upload", "awaiting upload"),
                    ("processing", "processing"),
                    ("ready", "ready"),
                    ("failed", "failed"),
                ],
                default="",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="user",
            name="avatar_failure_reason",
            field=models.CharField(blank=True, max_length=300),
        ),
    ]
