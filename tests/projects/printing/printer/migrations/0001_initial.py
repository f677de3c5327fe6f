import os
import time

from django.db import migrations, models


def pause(apps, schema_editor):
    # Stretches "Applying printer.0001_initial..." so that early workers print meanwhile.
    time.sleep(float(os.environ.get("PRINTING_MIGRATION_PAUSE", "0")))


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Line",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False)),
                ("text", models.TextField()),
            ],
        ),
        migrations.RunPython(pause, migrations.RunPython.noop),
    ]
