"""``manage.py rebuild_hull``: recompute the stability of the whole catalogue, in every hull set."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from hull.services.stability import hull_update


class Command(BaseCommand):
    help = "Recompute every hull and every entry's stability from scratch (all hull sets)."

    def handle(self, *args, **options):
        with tqdm(total=0, unit="system", desc="hulls", file=self.stderr) as bar:

            def progress(done: int, total: int, stage: str) -> None:
                bar.total = total
                bar.set_description(stage)
                bar.n = done
                bar.refresh()

            summary = hull_update(touched=None, progress=progress)
        self.stdout.write(self.style.SUCCESS(str(summary)))
