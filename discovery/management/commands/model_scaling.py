"""``manage.py model_scaling``: test error against training-set size on the catalogue (the paper's Fig. 1e),
with the fitted power law; the result is stored on the active model and shown on the dashboard."""

from django.core.management.base import BaseCommand, CommandError

from discovery.ml_adapter import CONFIGS, models_scaling
from hull.errors import CatalogueError


class Command(BaseCommand):
    help = "Train on growing subsets of the catalogue, print test MAE per size and the fitted power law."

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=sorted(CONFIGS), default="compositional")
        parser.add_argument("--hull-set", default="dft")
        parser.add_argument("--config", help="module under ml_backend/configs (default: cpu_<kind>)")
        parser.add_argument("--epochs", type=int, help="override the config's number of epochs")
        parser.add_argument(
            "--fractions",
            default="0.125,0.25,0.5,1.0",
            help="subset sizes as fractions of the training split",
        )

    def handle(self, *args, **options):
        try:
            fractions = tuple(float(f) for f in options["fractions"].split(","))
        except ValueError as exc:
            raise CommandError(f"--fractions must be numbers separated by commas: {exc}") from exc
        try:
            result = models_scaling(
                kind=options["kind"],
                hull_set=options["hull_set"],
                epochs=options["epochs"],
                fractions=fractions,
            )
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        for size, mae in zip(result["sizes"], result["test_mae"], strict=True):
            self.stdout.write(f"{size:>7d} training entries: test MAE {mae:.4f} eV/atom")
        fit = result["fit"]
        self.stdout.write(
            self.style.SUCCESS(
                f"power law: MAE = {fit['prefactor']:.3f} * N^{fit['exponent']:.3f} (R^2 {fit['r_squared']:.3f})"
            )
        )
