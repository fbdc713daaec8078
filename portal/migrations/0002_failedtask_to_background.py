# FailedTask moved to the background app (background/migrations/0001_failedtask_from_portal.py): state only, the
# table `portal_failedtask` and its rows stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0001_initial"),
        ("background", "0001_failedtask_from_portal"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="FailedTask")],
            database_operations=[],
        ),
    ]
