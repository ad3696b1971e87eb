"""``manage.py pseudopotential_shift``: bring the stored MP entries in line with PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT
(every ingest does so too) and update their hulls."""

from django.core.management.base import BaseCommand
from django.db import transaction

from hull.services import pseudopotential
from hull.services.stability import hull_update


class Command(BaseCommand):
    help = (
        "Apply or remove the GNoME pseudopotential shift of MP energies as the setting and the catalogue say."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            wanted = pseudopotential.shift_wanted()
            touched = pseudopotential.pseudopotential_shift_sync(wanted=wanted)
            summary = hull_update(touched=touched) if touched else None
        state = "applied" if wanted else "not applied"
        self.stdout.write(f"shift {state}: {len(touched)} chemical systems changed")
        if summary:
            self.stdout.write(str(summary))
