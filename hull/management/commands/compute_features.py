"""``manage.py compute_features``: backfill the structure features of the family screens (dimensionality
and structure prototype) for entries that have none, or for every entry with ``--all``."""

from concurrent.futures import ProcessPoolExecutor

from django.core.management.base import BaseCommand
from tqdm import tqdm

from hull.models import Entry
from hull.services.chemsys import chunked
from hull.services.features import features_compute, features_missing

CHUNK = 25


def _dimensionality_chunk(ids: list[int]) -> int:
    """Runs in a worker process: a fresh database connection, dimensionality only."""
    from django.db import connection

    connection.close()
    return features_compute(entry_ids=ids, prototypes=False).computed


class Command(BaseCommand):
    help = "Compute dimensionality (Cheon 0.45 Å, Larsen) and structure prototypes of stored structures."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="recompute every entry, not only missing ones")
        parser.add_argument("--limit", type=int, default=None, help="at most this many entries")
        parser.add_argument("--workers", type=int, default=1, help="processes for the dimensionality pass")
        parser.add_argument("--skip-dimensionality", action="store_true", help="prototypes only (fast)")

    def handle(self, *args, **options):
        if options["all"]:
            ids = list(
                Entry.objects.filter(structure__isnull=False).order_by("id").values_list("id", flat=True)
            )
        else:
            ids = features_missing()
        ids = ids[: options["limit"]] if options["limit"] else ids
        chunks = [list(c) for c in chunked(ids, CHUNK)]
        # Prototypes first, in one process and one call: new keys depend on the keys already given out.
        self.stderr.write(f"prototypes of {len(ids)} entries")
        new = features_compute(entry_ids=ids, dimensionality=False).new_prototypes
        if not options["skip_dimensionality"]:
            with tqdm(total=len(ids), desc="dimensionality", unit="entry", file=self.stderr) as bar:
                if options["workers"] > 1:
                    with ProcessPoolExecutor(options["workers"]) as pool:
                        for done in pool.map(_dimensionality_chunk, chunks):
                            bar.update(done)
                else:
                    for chunk in chunks:
                        bar.update(features_compute(entry_ids=chunk, prototypes=False).computed)
        self.stdout.write(self.style.SUCCESS(f"features of {len(ids)} entries; {new} new prototypes"))
