"""``manage.py compare_hull --column COLUMN``: where the catalogue's hull disagrees with a hull column the GNoME
release published (kept beside ours at ingest)."""

from django.core.management.base import BaseCommand, CommandError

from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.published_hull import DEFAULT_TOLERANCE, published_hull_compare


class Command(BaseCommand):
    help = (
        "Compare a published hull column of the GNoME release (e.g. 'Decomposition Energy Per Atom All') with the "
        "catalogue's hull; lists the disagreements, worst first, and exits non-zero when there are any."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--column", default="Decomposition Energy Per Atom", help="the CSV header of the published column"
        )
        parser.add_argument("--hull-set", default=DEFAULT_HULL_SET, choices=sorted(HULL_SETS))
        parser.add_argument(
            "--tolerance", type=float, default=DEFAULT_TOLERANCE, help="eV/atom within which values agree"
        )
        parser.add_argument("--limit", type=int, default=50, help="how many disagreements to list")

    def handle(self, *args, **options):
        try:
            comparison = published_hull_compare(
                column=options["column"], hull_set=options["hull_set"], tolerance=options["tolerance"]
            )
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        for disagreement in comparison.disagreements[: options["limit"]]:
            self.stdout.write(str(disagreement))
        if comparison.disagreements:
            raise CommandError(f"compare_hull: {comparison}")
        self.stdout.write(self.style.SUCCESS(f"compare_hull: {comparison}"))
