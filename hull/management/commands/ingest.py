"""``manage.py ingest PATH``: load computed entries into the catalogue and update the hull."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from hull.errors import CatalogueError
from hull.hull_sets import METHOD_FAMILIES
from hull.ingest.readers import FORMATS
from hull.services.ingest import IngestFailed, IngestReport, ingest_file


class Command(BaseCommand):
    help = "Ingest computed entries (pymatgen JSON, GNoME CSV, CIF, POSCAR, extended XYZ, WBM JSON)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="file or folder to ingest")
        parser.add_argument("--format", default="auto", choices=("auto", *FORMATS), dest="fmt")
        parser.add_argument("--source", help="source dataset name (default: from the ids or the file name)")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="store the good rows of a batch with bad ones"
        )
        parser.add_argument("--method", help="method label, e.g. 'CHGNet 0.3.0' (default: from the file)")
        parser.add_argument(
            "--method-family",
            choices=METHOD_FAMILIES,
            help="dft, ml, other or r2scan (default: from the file)",
        )
        parser.add_argument(
            "--energies", help="CIF/POSCAR: CSV of file name and energy (default: energies.csv beside)"
        )
        parser.add_argument(
            "--structures",
            help="GNoME CSV: by_id.zip, by_composition.zip, by_reduced_formula.zip or a folder of CIFs",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress lines")

    def handle(self, *args, **options):
        try:
            report = ingest_file(
                path=options["path"],
                fmt=options["fmt"],
                source=options["source"],
                skip_invalid=options["skip_invalid"],
                method=options["method"],
                method_family=options["method_family"],
                energies=options["energies"],
                structures=options["structures"],
                progress=None if options["quiet"] else self._progress(),
            )
        except IngestFailed as exc:
            self._print_rejected(exc.report)
            raise CommandError(str(exc)) from exc
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:  # the batch's transaction rolled back: nothing was written
            raise CommandError(
                f"{options['path']}: the database refused the batch, nothing was written ({exc})"
            ) from exc
        self._print_rejected(report)
        self.stdout.write(self.style.SUCCESS(report.summary()))
        if report.hull:
            self.stdout.write(str(report.hull))

    def _progress(self):
        started = time.perf_counter()

        def report(rows: int, message: str) -> None:
            seconds = time.perf_counter() - started
            self.stderr.write(f"{message} ({seconds:.0f} s, {rows / max(seconds, 1e-9):,.0f} rows/s)")

        return report

    def _print_rejected(self, report: IngestReport) -> None:
        for problem in report.rejected[:50]:
            self.stderr.write(f"rejected {problem}")
        if len(report.rejected) > 50:
            self.stderr.write(f"... and {len(report.rejected) - 50} more rejected rows")
