"""``manage.py run_discovery``: run discovery rounds from the command line through the same services, in
this process or through the Celery workers, and print a per-round table."""

import time

from django.core.management.base import BaseCommand, CommandError

from discovery.advance import run_round_inline
from discovery.config import RoundConfig
from discovery.generation import PER_COMPOSITION
from discovery.models import Round
from discovery.services import round_create
from discovery.training import models_check
from hull.errors import CatalogueError
from ml_backend.ensemble import PAPER_VOLUMES

COLUMNS = (
    ("round", 5),
    ("status", 9),
    ("generated", 9),
    ("kept", 6),
    ("evaluated", 9),
    ("failed", 6),
    ("hit rate", 8),
    ("baseline", 8),
    ("model MAE", 9),
    ("new stable", 10),
    ("pushed off", 10),
    ("seconds", 8),
)


class Command(BaseCommand):
    help = "Run N discovery rounds (generate, filter, evaluate, ingest, hull, retrain, metrics) and print a table."

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=1)
        parser.add_argument("--budget", type=int, default=1000, help="candidates generated per round")
        parser.add_argument("--eval-budget", type=int, default=100, help="candidates evaluated per round")
        parser.add_argument(
            "--baseline-size", type=int, default=30, help="random unfiltered candidates evaluated"
        )
        parser.add_argument("--elements", default="", help="scope: comma-separated elements, e.g. Li,Mn,O")
        parser.add_argument(
            "--chemsys", default="", help="scope: comma-separated chemical systems, e.g. Li-Co-O"
        )
        parser.add_argument("--generators", default="substitution,saps")
        parser.add_argument(
            "--threshold", type=float, default=0.05, help="eV/atom above the hull kept by the filter"
        )
        parser.add_argument("--evaluator", default="chgnet")
        parser.add_argument(
            "--ensemble-size",
            type=int,
            help="models whose median filters the candidates, exactly (default PORTAL_ROUND_ENSEMBLE_SIZE: the "
            "paper's 10, the embedded demo's own); refused when the active models have fewer",
        )
        parser.add_argument(
            "--volumes",
            type=int,
            default=PAPER_VOLUMES,
            help="test-time augmentation: volumes from 80%% to 120%% each candidate is predicted at (paper: 20)",
        )
        parser.add_argument(
            "--iqr-weight",
            type=float,
            default=0.0,
            help="k: the filter keeps and ranks by median + k x IQR over the ensemble (0: the paper's median)",
        )
        parser.add_argument("--relax-steps", type=int, default=300)
        parser.add_argument(
            "--random-structures",
            type=int,
            default=PER_COMPOSITION,
            help="symmetric random structures per composition (composition generator)",
        )
        parser.add_argument("--retrain", action="store_true")
        parser.add_argument("--hull-set", default="all")
        parser.add_argument("--celery", action="store_true", help="run through the Celery workers and wait")
        parser.add_argument(
            "--timeout", type=float, default=7200, help="seconds to wait for a round (--celery)"
        )
        parser.add_argument(
            "--report",
            action="store_true",
            help="print the table of the rounds already stored (however they were launched) and exit",
        )

    def handle(self, *args, **options):
        if options["report"]:
            self.stdout.write("  ".join(name.rjust(width) for name, width in COLUMNS))
            for round in Round.objects.order_by("number"):
                seconds = None
                if round.started_at and round.finished_at:
                    seconds = (round.finished_at - round.started_at).total_seconds()
                self.stdout.write(self._row(round, seconds))
            return
        config = {
            "elements": [e for e in options["elements"].split(",") if e],
            "chemsys": [c for c in options["chemsys"].split(",") if c],
            "generators": [g for g in options["generators"].split(",") if g],
            "budget": options["budget"],
            "eval_budget": options["eval_budget"],
            "baseline_size": options["baseline_size"],
            "threshold": options["threshold"],
            "evaluator": options["evaluator"],
            "volumes": options["volumes"],
            "iqr_weight": options["iqr_weight"],
            "relax_steps": options["relax_steps"],
            "random_structures": options["random_structures"],
            "retrain": options["retrain"],
            "hull_set": options["hull_set"],
        }
        if options["ensemble_size"] is not None:
            config["ensemble_size"] = options["ensemble_size"]
        try:
            plan = RoundConfig.from_data(config)
            models_check(generators=plan.generators, ensemble_size=plan.ensemble_size)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("  ".join(name.rjust(width) for name, width in COLUMNS))
        for _ in range(options["rounds"]):
            started = time.perf_counter()
            try:
                round = round_create(config=config, enqueue=options["celery"])
            except CatalogueError as exc:
                raise CommandError(str(exc)) from exc
            if options["celery"]:
                round = self._wait(round, options["timeout"])
            else:
                round = run_round_inline(round)
            self.stdout.write(self._row(round, time.perf_counter() - started))
            if round.status != Round.Status.SUCCEEDED:
                raise CommandError(f"round {round.number} {round.status}: {round.error}")

    def _wait(self, round: Round, timeout: float) -> Round:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            round.refresh_from_db()
            if round.status in (Round.Status.SUCCEEDED, Round.Status.FAILED, Round.Status.CANCELLED):
                return round
            time.sleep(2)
        raise CommandError(
            f"round {round.number} did not finish within {timeout:.0f} s (still {round.status})"
        )

    def _row(self, round: Round, seconds: float | None) -> str:
        m = round.metrics or {}

        def pct(value):
            return "-" if value is None else f"{100 * value:.1f}%"

        cells = [
            round.number,
            round.status,
            m.get("generated", "-"),
            m.get("kept", "-"),
            m.get("evaluated", "-"),
            m.get("failed", "-"),
            pct(m.get("hit_rate")),
            pct(m.get("baseline_hit_rate")),
            "-" if m.get("model_mae") is None else f"{m['model_mae']:.3f}",
            m.get("new_stable", "-"),
            m.get("pushed_off_hull", "-"),
            "-" if seconds is None else f"{seconds:.0f}",
        ]
        return "  ".join(str(cell).rjust(width) for cell, (_, width) in zip(cells, COLUMNS, strict=True))
