"""``manage.py discovery_benchmark``: the rediscovery benchmark (``discovery.benchmark``): hide the composition-hash
test split of the DFT catalogue, run the loop on the rest, and print recall, DFT-confirmed precision, the baseline
and the acceleration factor per round."""

import shlex
import sys

from django.core.management.base import BaseCommand, CommandError

from discovery.benchmark.report import benchmark_table
from discovery.benchmark.runner import BenchmarkOptions
from discovery.benchmark.services import benchmark_execute, benchmark_options
from hull.errors import CatalogueError

DEFAULTS = BenchmarkOptions()


class Command(BaseCommand):
    help = (
        "Rediscovery benchmark: the discovery loop against hidden DFT ground truth, with a random baseline."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rounds", type=int, default=DEFAULTS.rounds)
        parser.add_argument(
            "--budget", type=int, default=DEFAULTS.budget, help="candidates generated per round"
        )
        parser.add_argument(
            "--eval-budget", type=int, default=DEFAULTS.eval_budget, help="evaluations per arm and round"
        )
        parser.add_argument("--threshold", type=float, default=DEFAULTS.threshold)
        parser.add_argument("--generators", default=",".join(DEFAULTS.generators))
        parser.add_argument("--elements", default="", help="scope, e.g. Li,Fe,P,O (default: every element)")
        parser.add_argument("--evaluator", default=DEFAULTS.evaluator)
        parser.add_argument("--relax-steps", type=int, default=DEFAULTS.relax_steps)
        parser.add_argument("--volumes", type=int, default=DEFAULTS.volumes)
        parser.add_argument("--members", type=int, default=DEFAULTS.members, help="ensemble members trained")
        parser.add_argument("--epochs", type=int, default=DEFAULTS.epochs)
        parser.add_argument("--config", default=DEFAULTS.config_name, help="ml_backend config of the model")
        parser.add_argument("--seed", type=int, default=DEFAULTS.seed)
        parser.add_argument("--name", default=None, help="name of the stored report")

    def handle(self, *args, **o):
        split = lambda text: [x.strip() for x in text.split(",") if x.strip()]  # noqa: E731
        try:
            options = benchmark_options(
                {
                    "rounds": o["rounds"],
                    "budget": o["budget"],
                    "eval_budget": o["eval_budget"],
                    "threshold": o["threshold"],
                    "generators": split(o["generators"]),
                    "elements": split(o["elements"]),
                    "evaluator": o["evaluator"],
                    "relax_steps": o["relax_steps"],
                    "volumes": o["volumes"],
                    "members": o["members"],
                    "epochs": o["epochs"],
                    "config_name": o["config"],
                    "seed": o["seed"],
                }
            )
            command = "manage.py discovery_benchmark " + shlex.join(sys.argv[2:])
            report = benchmark_execute(options=options, name=o["name"], command=command)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(benchmark_table(report))
        self.stdout.write(f"\nstored as {report['name']} ({report['seconds']:.0f} s)")
