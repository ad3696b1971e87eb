"""The stability index on the energy above hull carries the entry too, so that pages sorted by (e_above_hull, id)
are read off it: every stable entry ties at 0 eV/atom."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hull", "0006_stability_chemsys"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="stability",
            index=models.Index(fields=["hull_set", "e_above_hull", "entry"], name="stab_set_ehull_entry"),
        ),
        migrations.RemoveIndex(model_name="stability", name="stab_set_ehull"),
    ]
