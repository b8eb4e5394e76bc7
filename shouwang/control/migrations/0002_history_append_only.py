"""The control history refuses UPDATE and DELETE in the database itself (history.py)."""

from django.db import migrations


def install(apps, schema_editor):
    from shouwang.control import history

    history.install(schema_editor.connection)


def remove(apps, schema_editor):
    from shouwang.control import history

    history.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("control", "0001_initial")]

    operations = [migrations.RunPython(install, remove, elidable=False)]
