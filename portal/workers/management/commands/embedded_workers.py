"""``manage.py embedded_workers``: the workers of the embedded default, for ``scripts/start.sh``."""

from django.core.management.base import BaseCommand

from portal.workers.layout import EMBEDDED


class Command(BaseCommand):
    help = (
        "Print one line per worker of the embedded default (portal/workers/layout.py): its kind of work, its "
        "niceness and the arguments of `celery -A portal` that start it."
    )

    def handle(self, *args, **options):
        for plan in EMBEDDED:
            self.stdout.write(" ".join([plan.kind, str(plan.nice), *plan.arguments()]))
