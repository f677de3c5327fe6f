from django.db import migrations

GENRES = [
    ("Fiction", "fiction"),
    ("Science", "science"),
    ("History", "history"),
    ("Poetry", "poetry"),
    ("Children", "children"),
]


def seed(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    alias = schema_editor.connection.alias
    for name, slug in GENRES:
        Genre.objects.using(alias).get_or_create(slug=slug, defaults={"name": name})


def unseed(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    Genre.objects.using(schema_editor.connection.alias).filter(
        slug__in=[slug for _, slug in GENRES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
