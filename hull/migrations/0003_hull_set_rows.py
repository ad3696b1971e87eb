from django.db import migrations

HULL_SETS = ("dft", "all")


def create_rows(apps, schema_editor):
    HullSetState = apps.get_model("hull", "HullSetState")
    for name in HULL_SETS:
        HullSetState.objects.get_or_create(hull_set=name)


class Migration(migrations.Migration):
    dependencies = [("hull", "0002_entry_features")]
    operations = [migrations.RunPython(create_rows, migrations.RunPython.noop)]
