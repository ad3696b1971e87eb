"""``manage.py train_models``: train a GNoME ensemble on the catalogue and register it."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from discovery.ml_adapter import CONFIGS, models_train
from hull.errors import CatalogueError
from hull.hull_sets import HULL_SETS
from ml_backend.ensemble import PAPER_MEMBERS


class Command(BaseCommand):
    help = (
        "Train an ensemble of GNoME graph networks on the catalogue (hash split) and register it as active."
    )

    def add_arguments(self, parser):
        parser.add_argument("--kind", choices=sorted(CONFIGS), default="structural")
        parser.add_argument("--hull-set", choices=sorted(HULL_SETS), default="dft")
        parser.add_argument(
            "--models",
            type=int,
            default=PAPER_MEMBERS,
            help="ensemble size (default: the paper's 10); a round asks for at most this many",
        )
        parser.add_argument("--config", help="module under ml_backend/configs (default: cpu_<kind>)")
        parser.add_argument("--epochs", type=int, help="override the config's number of epochs")
        parser.add_argument("--limit", type=int, help="train on the first N catalogue entries only")
        parser.add_argument("--name", help="registry name (default: kind-hullset-timestamp)")
        parser.add_argument("--no-activate", action="store_true", help="register without making it active")

    def handle(self, *args, **options):
        bars: dict[int, tqdm] = {}

        def progress(member: int, p) -> None:
            bar = bars.get(member)
            if bar is None:
                bar = bars[member] = tqdm(
                    total=p.num_epochs,
                    desc=f"model {member + 1}/{options['models']}",
                    unit="epoch",
                    file=self.stderr,
                )
            bar.n = p.epoch
            bar.set_postfix(
                loss=f"{p.train_loss:.4f}", mae="-" if p.eval_mae is None else f"{p.eval_mae:.3f}"
            )
            bar.refresh()

        try:
            report = models_train(
                kind=options["kind"],
                hull_set=options["hull_set"],
                n_models=options["models"],
                config_name=options["config"],
                name=options["name"],
                activate=not options["no_activate"],
                limit=options["limit"],
                epochs=options["epochs"],
                progress=progress,
            )
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars.values():
                bar.close()
        model = report.model
        self.stdout.write(
            self.style.SUCCESS(
                f"registered {model.name} ({model.kind}, {model.n_models} models, {model.n_train} train / {model.n_test} test): "
                f"test MAE {report.test_mae:.3f} eV/atom, linear per-element baseline {report.baseline_mae:.3f} eV/atom, "
                f"{report.seconds:.0f} s{' [active]' if model.is_active else ''}"
            )
        )
