"""Reads that join the catalogue with the discovery rounds, for the pages (the catalogue itself knows nothing
of rounds, so these live with the site rather than in ``hull``)."""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.db.models.functions import TruncDate

from discovery.models import Round, TrainedModel, TrainingJob
from discovery.services import RESUMABLE
from discovery.training import training_jobs_recent
from hull.errors import CatalogueError
from hull.formulas import parse_composition
from hull.models import Stability
from hull.search import EntrySearch
from hull.selectors import check_hull_set

ELEMENT_SYMBOL = re.compile(r"[A-Z][a-z]?")
"""An element symbol within checked text (a chemical system, a formula)."""


def discovery_batch_ids() -> list[int]:
    return list(Round.objects.exclude(batch=None).values_list("batch_id", flat=True))


def finished_rounds() -> list[Round]:
    return list(Round.objects.filter(finished_at__isnull=False).order_by("number"))


def round_as_of(*, number: int) -> tuple[Round, datetime]:
    """A finished round and the moment the catalogue stood at after it."""
    try:
        round_ = Round.objects.get(number=number)
    except Round.DoesNotExist as exc:
        raise CatalogueError(f"no discovery round number {number}") from exc
    if round_.finished_at is None:
        raise CatalogueError(f"round {number} has not finished; pick a finished round")
    return round_, round_.finished_at


def stable_growth(*, hull_set: str) -> dict:
    """Entries stable today, counted by the day they entered the catalogue (cumulative) and by the discovery
    round that added them."""
    check_hull_set(hull_set)
    stable = Stability.objects.filter(hull_set=hull_set, is_stable=True)
    by_day = list(
        stable.annotate(day=TruncDate("entry__created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    days, cumulative, total = [], [], 0
    for day, n in by_day:
        total += n
        days.append(day.isoformat())
        cumulative.append(total)
    dft_by_day = dict(
        stable.filter(entry__method_family="dft")
        .annotate(day=TruncDate("entry__created_at"))
        .values_list("day")
        .annotate(n=Count("id"))
        .order_by("day")
    )
    dft_cumulative, dft_total = [], 0
    for day, _ in by_day:  # DFT-stable beside all stable: the difference is predicted by evaluators
        dft_total += dft_by_day.get(day, 0)
        dft_cumulative.append(dft_total)
    rounds = list(
        Round.objects.order_by("number").annotate(
            n_stable=Count(
                "batch__entries__stabilities",
                filter=Q(
                    batch__entries__stabilities__hull_set=hull_set,
                    batch__entries__stabilities__is_stable=True,
                ),
            )
        )
    )
    return {
        "days": days,
        "cumulative": cumulative,
        "dft_cumulative": dft_cumulative,
        "rounds": [(r.number, r.n_stable) for r in rounds],
    }


@dataclass
class Dashboard:
    rounds: list[Round]
    models: list[TrainedModel]
    scaling: tuple[TrainedModel, dict] | None
    active_models: list[TrainedModel]
    training_jobs: list[TrainingJob]

    @property
    def busy(self) -> bool:
        """Whether a round or a training is unfinished: the page then refreshes itself."""
        return any(r.status in RESUMABLE for r in self.rounds) or any(
            job.status in TrainingJob.UNFINISHED for job in self.training_jobs
        )


def dashboard_get() -> Dashboard:
    rounds = list(Round.objects.prefetch_related("stages").order_by("-number"))
    models = list(TrainedModel.objects.select_related("trained_in_round").order_by("-created_at"))
    scaling = next(((m, m.metrics["scaling"]) for m in models if _is_scaling(m.metrics.get("scaling"))), None)
    return Dashboard(
        rounds=rounds,
        models=models,
        scaling=scaling,
        active_models=[m for m in models if m.is_active],
        training_jobs=training_jobs_recent(limit=5),
    )


def _is_scaling(value) -> bool:
    """The registry's scaling result: ``{"sizes": [...], "test_mae": [...], "fit": {...}}``."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("sizes"), list)
        and isinstance(value.get("test_mae"), list)
        and len(value["sizes"]) == len(value["test_mae"]) > 0
    )


def absent_elements(search: EntrySearch, held: list[str]) -> list[str]:
    """The elements a search asks for that no catalogue entry holds (``held``: the catalogue's elements), which is
    why it finds nothing: those every match must contain (contains all, the formula's, the chemical system's
    named ones), and "contains any" where none of them is held."""
    required = set(search.elements)
    if search.formula:
        required |= {el.symbol for el in parse_composition(search.formula).elements}
    if search.chemsys:
        required |= set(ELEMENT_SYMBOL.findall(search.chemsys))
    absent = required - set(held)
    if search.elements_any and not set(search.elements_any) & set(held):
        absent |= set(search.elements_any)
    return sorted(absent)
