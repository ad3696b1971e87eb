"""``manage.py models_bootstrap``: on a fresh portal, queue the training of the demo structural ensemble."""

from django.core.management.base import BaseCommand

from discovery.training import models_bootstrap


class Command(BaseCommand):
    help = (
        "Queue the training of the demo structural ensemble (PORTAL_DEMO_MODEL_*) on the workers unless a "
        "structural model is active or being trained; scripts/start.sh runs it on every start."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--interrupted",
            action="store_true",
            help="no worker runs yet: unfinished training jobs were cut off by the last stop (failed, queued again)",
        )

    def handle(self, *args, **options):
        job = models_bootstrap(interrupted=options["interrupted"])
        if job is None:
            self.stdout.write(
                "models: a structural model is active or being trained (or the catalogue is empty)"
            )
            return
        self.stdout.write(
            f"models: training the demo structural ensemble in the background ({job.n_models} members x "
            f"{job.epochs} epochs, about {job.estimate_seconds / 60:.0f} min; progress on /discovery/)"
        )
