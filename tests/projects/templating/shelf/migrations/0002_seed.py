from django.db import migrations

# The templating tests edit this list in a copy of the project to prove a changed migration
# rebuilds the template.
GENRES = ["essay", "novel", "poetry"]


def seed(apps, schema_editor):
    Genre = apps.get_model("shelf", "Genre")
    for name in GENRES:
        Genre.objects.create(name=name)


class Migration(migrations.Migration):
    dependencies = [("shelf", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
