"""Services of discovery rounds: create, cancel and retry, with a validated configuration and explicit state
transitions. The work itself is enqueued by :func:`round_enqueue` after the transaction commits; the discovery
issue fills that hook in (today it does nothing)."""

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from discovery.models import Round, RoundStage
from hull.errors import CatalogueError
from hull.formulas import parse_chemsys, parse_elements
from hull.hull_sets import HULL_SETS

GENERATORS = ("substitution", "saps", "composition")
EVALUATORS = ("chgnet", "vasp")
SELECTIONS = ("per_composition", "clusters")
MAX_BUDGET = 1_000_000

# Which states each action may leave from.
CANCELLABLE = (Round.Status.PENDING, Round.Status.RUNNING)
RETRYABLE = (Round.Status.FAILED, Round.Status.CANCELLED)
RESUMABLE = (Round.Status.PENDING, Round.Status.RUNNING)

# (field, lowest, highest) of the integer settings
INTEGER_RANGES = (
    ("budget", 1, MAX_BUDGET),
    ("eval_budget", 1, MAX_BUDGET),
    ("baseline_size", 0, MAX_BUDGET),
    ("ensemble_size", 1, 32),
    ("volumes", 1, 100),
    ("relax_steps", 1, 10_000),
    ("retrain_epochs", 1, 10_000),
    ("chunk_size", 1, 1_000),
    ("seed", 0, 2**31 - 1),
)


@dataclass
class RoundConfig:
    """What a round explores and how. ``elements`` or ``chemsys`` (or both) give the scope.

    ``budget`` candidates are generated (an equal share per generator), the filter keeps at most
    ``eval_budget`` predicted within ``threshold`` eV/atom of the hull (the paper's 50 meV/atom), one per
    composition or per structure cluster (``selection``), and ``baseline_size`` random unfiltered candidates
    are evaluated beside them for the baseline hit rate.
    """

    elements: list[str] = field(default_factory=list)
    chemsys: list[str] = field(default_factory=list)
    generators: list[str] = field(default_factory=lambda: ["substitution", "saps"])
    budget: int = 1000
    eval_budget: int = 100
    baseline_size: int = 30
    threshold: float = 0.05
    selection: str = "per_composition"
    evaluator: str = "chgnet"
    ensemble_size: int = 10
    volumes: int = 5
    relax_steps: int = 300
    retrain: bool = False
    retrain_epochs: int = 5
    chunk_size: int = 10
    seed: int = 0
    hull_set: str = "all"

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> "RoundConfig":
        if not isinstance(data, dict):
            raise CatalogueError("config must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise CatalogueError(
                f"unknown config key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        config = cls(**data)
        config.validate()
        return config

    @classmethod
    def of(cls, round: Round) -> "RoundConfig":
        """The stored configuration of a round (keys it does not know are ignored)."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in (round.config or {}).items() if k in known})

    def scope_elements(self) -> list[str]:
        elements = set(self.elements)
        for chemsys in self.chemsys:
            elements.update(chemsys.split("-"))
        return sorted(elements)

    def validate(self) -> None:
        if not isinstance(self.elements, list) or not isinstance(self.chemsys, list):
            raise CatalogueError("elements and chemsys must be lists")
        if not all(isinstance(x, str) for x in self.elements + self.chemsys):
            raise CatalogueError("elements and chemsys must be lists of strings")
        self.elements = parse_elements(self.elements)
        self.chemsys = sorted({parse_chemsys(text) for text in self.chemsys})
        if not self.elements and not self.chemsys:
            raise CatalogueError("a round needs a scope: elements or chemsys")
        if not isinstance(self.generators, list) or not self.generators:
            raise CatalogueError(f"generators must be a non-empty list of {', '.join(GENERATORS)}")
        bad = [g for g in self.generators if g not in GENERATORS]
        if bad:
            raise CatalogueError(f"unknown generator(s) {bad}: choose from {', '.join(GENERATORS)}")
        for name, low, high in INTEGER_RANGES:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise CatalogueError(f"{name} must be an integer between {low} and {high}")
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int | float):
            raise CatalogueError("threshold must be a number (eV/atom)")
        if not math.isfinite(self.threshold) or not -1.0 <= self.threshold <= 1.0:
            raise CatalogueError("threshold must lie between -1 and 1 eV/atom")
        if self.selection not in SELECTIONS:
            raise CatalogueError(f"unknown selection {self.selection!r}: choose from {', '.join(SELECTIONS)}")
        if self.evaluator not in EVALUATORS:
            raise CatalogueError(f"unknown evaluator {self.evaluator!r}: choose from {', '.join(EVALUATORS)}")
        if not isinstance(self.retrain, bool):
            raise CatalogueError("retrain must be true or false")
        if self.hull_set not in HULL_SETS:
            raise CatalogueError(f"unknown hull set {self.hull_set!r}: choose one of {', '.join(HULL_SETS)}")


def round_enqueue(round: Round) -> None:
    """Start (or resume) the round's work on the Celery workers; called once its transaction has committed."""
    from django.conf import settings

    from discovery.tasks import round_advance_task

    round_advance_task.apply_async((round.pk,), {"dispatch": round.dispatch}, queue=settings.PORTAL_CPU_QUEUE)


def round_dispatch(round: Round) -> None:
    """Number a new dispatch of the round's work (tasks of earlier ones stop) and enqueue it once the
    transaction commits."""
    Round.objects.filter(pk=round.pk).update(dispatch=F("dispatch") + 1)
    round.refresh_from_db(fields=["dispatch"])
    transaction.on_commit(lambda r=round: round_enqueue(r))


def round_create(*, config: dict[str, Any], user=None, enqueue: bool = True) -> Round:
    """A new pending round with its stages, numbered after the last one; enqueued after commit (unless
    ``enqueue`` is false: ``run_discovery`` runs it in its own process)."""
    checked = RoundConfig.from_data(config)
    for _attempt in range(5):
        try:
            with transaction.atomic():
                number = (Round.objects.aggregate(n=Max("number"))["n"] or 0) + 1
                round = Round(
                    number=number,
                    hull_set=checked.hull_set,
                    config=asdict(checked),
                    created_by=user if user is not None and user.is_authenticated else None,
                )
                round.full_clean()
                round.save()
                RoundStage.objects.bulk_create(
                    RoundStage(round=round, name=name, order=i)
                    for i, name in enumerate(RoundStage.Name.values)
                )
                if enqueue:
                    round_dispatch(round)
            return round
        except IntegrityError:  # two launches took the same number: take the next one
            continue
    raise CatalogueError("could not number the new round; try again")


def round_cancel(*, round: Round) -> Round:
    """Cancel a pending or running round and its unfinished stages."""
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round.pk)
        if locked.status not in CANCELLABLE:
            raise CatalogueError(
                f"round {locked.number} is {locked.status}; only pending or running rounds can be cancelled"
            )
        now = timezone.now()
        locked.status = Round.Status.CANCELLED
        locked.finished_at = now
        locked.save(update_fields=["status", "finished_at"])
        locked.stages.filter(status__in=[RoundStage.Status.PENDING, RoundStage.Status.RUNNING]).update(
            status=RoundStage.Status.CANCELLED, finished_at=now
        )
    return locked


def round_retry(*, round: Round) -> Round:
    """Put a failed or cancelled round back to pending: finished stages stay, the others start over."""
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round.pk)
        if locked.status not in RETRYABLE:
            raise CatalogueError(
                f"round {locked.number} is {locked.status}; only failed or cancelled rounds can be retried"
            )
        locked.status = Round.Status.PENDING
        locked.error = ""
        locked.finished_at = None
        locked.save(update_fields=["status", "error", "finished_at"])
        locked.stages.exclude(status__in=[RoundStage.Status.SUCCEEDED, RoundStage.Status.SKIPPED]).update(
            status=RoundStage.Status.PENDING, done=0, message="", started_at=None, finished_at=None
        )
        round_dispatch(locked)
    return locked


def round_resume(*, round: Round) -> Round:
    """Enqueue a pending or running round again from its first unfinished stage (after a worker died: the
    recovery sweep does it, ``discovery.recovery``). Stages are idempotent, so work already done is not
    repeated, and tasks of the earlier dispatch that are still queued, or delivered again, do nothing."""
    with transaction.atomic():
        locked = Round.objects.select_for_update().get(pk=round.pk)
        if locked.status not in RESUMABLE:
            raise CatalogueError(
                f"round {locked.number} is {locked.status}; only pending or running rounds can be resumed"
            )
        round_dispatch(locked)
    round.dispatch = locked.dispatch
    return round
