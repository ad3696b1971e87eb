"""Stability rows carry their entry's chemical system (and an index on it with the hull set and the energy
above hull), filled in here for the rows that exist."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def copy_chemsys(apps, schema_editor):
    Entry = apps.get_model("hull", "Entry")
    Stability = apps.get_model("hull", "Stability")
    own = Entry.objects.filter(pk=OuterRef("entry_id")).values("chemsys_id")[:1]
    Stability.objects.using(schema_editor.connection.alias).update(chemsys=Subquery(own))


class Migration(migrations.Migration):
    dependencies = [
        ("hull", "0005_chemsys_element_symbol_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="stability",
            name="chemsys",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(copy_chemsys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="stability",
            index=models.Index(fields=["hull_set", "chemsys", "e_above_hull"], name="stab_set_chemsys_ehull"),
        ),
    ]
