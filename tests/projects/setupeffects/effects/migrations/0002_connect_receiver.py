from django.db import migrations


def connect_receiver(apps, schema_editor):
    from effects.receivers import connect

    connect()


class Migration(migrations.Migration):
    dependencies = [("effects", "0001_initial")]

    operations = [migrations.RunPython(connect_receiver, migrations.RunPython.noop)]
