from django.db import migrations, models

import tags.models


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Tag",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False)),
                ("name", tags.models.CaseInsensitiveTextField(unique=True)),
            ],
        ),
    ]
