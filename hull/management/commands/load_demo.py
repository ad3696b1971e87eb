"""``manage.py load_demo``: ingest the demo catalogue (idempotent) and say which data it used."""

from django.core.management.base import BaseCommand, CommandError

from hull.demo import demo_source
from hull.errors import CatalogueError
from hull.services.ingest import ingest_file


class Command(BaseCommand):
    help = "Load the demo catalogue: ../shared/data/mp_entries.json.gz, or pymatgen's packaged entries without it."

    def handle(self, *args, **options):
        demo = demo_source()
        self.stdout.write(f"Demo catalogue: {demo.description}")
        try:
            report = ingest_file(path=demo.path, source=demo.source, method=demo.method)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.hull:
            self.stdout.write(str(report.hull))
