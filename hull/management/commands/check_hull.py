"""``manage.py check_hull``: recompute every hull from scratch and compare with what is stored."""

from django.core.management.base import BaseCommand, CommandError

from hull.hull_check import hull_differences


class Command(BaseCommand):
    help = "Recompute all hulls from scratch and compare with the stored stability; exits non-zero on differences."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200, help="how many differences to list")

    def handle(self, *args, **options):
        differences = hull_differences()
        if not differences:
            self.stdout.write(self.style.SUCCESS("check_hull: stored stability equals a full rebuild"))
            return
        for difference in differences[: options["limit"]]:
            self.stdout.write(str(difference))
        raise CommandError(f"check_hull: {len(differences)} stored values differ from a full rebuild")
