"""``Report`` moved to the ``moderation`` app: forget it here, keep its table and rows.

State only: the table ``activity_report`` stays as it is, and ``moderation``'s first
migration takes the model over with that ``db_table``.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("activity", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Report")],
            database_operations=[],
        ),
    ]
