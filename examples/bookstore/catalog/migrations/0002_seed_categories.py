from django.db import migrations

CATEGORIES = [
    ("Fiction", "fiction", "Novels and short stories."),
    ("Science", "science", "Popular science and textbooks."),
    ("History", "history", "From antiquity to the present day."),
    ("Children", "children", "Picture books and young readers."),
    ("Travel", "travel", "Guides and travel writing."),
]


def create_categories(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    db_alias = schema_editor.connection.alias
    for name, slug, description in CATEGORIES:
        Category.objects.using(db_alias).get_or_create(
            slug=slug, defaults={"name": name, "description": description}
        )


def remove_categories(apps, schema_editor):
    Category = apps.get_model("catalog", "Category")
    db_alias = schema_editor.connection.alias
    Category.objects.using(db_alias).filter(slug__in=[slug for _, slug, _ in CATEGORIES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_categories, remove_categories),
    ]
