"""``manage.py check_hull``: check that every stored entry re-parses to its own fields with a plausible energy, that
elemental references are plausible, and that every hull recomputed from scratch equals what is stored."""

from django.core.management.base import BaseCommand, CommandError

from hull.hull_check import entry_differences, hull_differences


class Command(BaseCommand):
    help = (
        "Check every stored entry's fields and energy and each hull set's elemental references, then recompute all "
        "hulls from scratch and compare with the stored stability; exits non-zero on differences."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200, help="how many differences to list")

    def handle(self, *args, **options):
        entries = entry_differences()
        hulls = hull_differences()
        if not entries and not hulls:
            self.stdout.write(
                self.style.SUCCESS(
                    "check_hull: stored entries re-parse to their own fields, energies and elemental references are "
                    "plausible, and stored stability equals a full rebuild"
                )
            )
            return
        for difference in (entries + hulls)[: options["limit"]]:
            self.stdout.write(str(difference))
        found = []
        if entries:
            found.append(
                f"{len(entries)} stored entry fields or elemental references are inconsistent or implausible"
            )
        if hulls:
            found.append(f"{len(hulls)} stored values differ from a full rebuild")
        raise CommandError(f"check_hull: {'; '.join(found)}")
