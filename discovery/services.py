"""Services of discovery rounds: create, cancel, retry and resume, with a validated configuration
(``discovery.config``) and explicit state transitions. The work is enqueued by :func:`round_enqueue` once the
transaction commits (``discovery.tasks``)."""

from dataclasses import asdict
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from discovery.config import RoundConfig
from discovery.models import Round, RoundStage
from hull.errors import CatalogueError

# Which states each action may leave from.
CANCELLABLE = (Round.Status.PENDING, Round.Status.RUNNING)
RETRYABLE = (Round.Status.FAILED, Round.Status.CANCELLED)
RESUMABLE = (Round.Status.PENDING, Round.Status.RUNNING)


def round_enqueue(round: Round) -> None:
    """Start (or resume) the round's work on the Celery workers; called once its transaction has committed."""
    from discovery.tasks import round_advance_task

    round_advance_task.apply_async((round.pk,), {"dispatch": round.dispatch})


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
