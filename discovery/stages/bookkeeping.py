"""The state of a round and of its stages: start, progress, finish, cancellation, failure and success."""

import logging
from collections.abc import Callable
from typing import TypeVar

from django.db import transaction
from django.utils import timezone

from discovery.models import Round, RoundStage

logger = logging.getLogger(__name__)

STAGES = list(RoundStage.Name.values)
T = TypeVar("T")


class RoundCancelled(Exception):
    """The round was cancelled while a stage ran; the stage stops where it is."""


def stage_of(round: Round, name: str) -> RoundStage:
    stage, _ = RoundStage.objects.get_or_create(
        round=round, name=name, defaults={"order": STAGES.index(name)}
    )
    return stage


def stage_succeeded(round: Round, name: str) -> RoundStage | None:
    """The stage when it has already succeeded (a stage that runs again then does nothing), else None."""
    stage = stage_of(round, name)
    return stage if stage.status == RoundStage.Status.SUCCEEDED else None


def next_stage(round: Round) -> str | None:
    """The first stage that has not finished, in order."""
    done = {RoundStage.Status.SUCCEEDED, RoundStage.Status.SKIPPED}
    statuses = dict(round.stages.values_list("name", "status"))
    return next((name for name in STAGES if statuses.get(name) not in done), None)


def stage_start(round: Round, name: str, total: int = 0) -> RoundStage:
    check_not_cancelled(round)
    with transaction.atomic():
        Round.objects.filter(pk=round.pk, status=Round.Status.PENDING).update(
            status=Round.Status.RUNNING, started_at=timezone.now()
        )
        stage = stage_of(round, name)
        stage.status = RoundStage.Status.RUNNING
        stage.total = total
        stage.started_at = stage.started_at or timezone.now()
        stage.save(update_fields=["status", "total", "started_at"])
    return stage


def stage_finish(stage: RoundStage, message: str = "", status: str = RoundStage.Status.SUCCEEDED) -> None:
    if not stage.total:  # progress went straight to the database (stage_progress): keep it
        stage.refresh_from_db(fields=["done", "total"])
    stage.status = status
    stage.message = message[:2000]
    stage.finished_at = timezone.now()
    if status == RoundStage.Status.SUCCEEDED and stage.total:
        stage.done = stage.total
    stage.save(update_fields=["status", "message", "finished_at", "done"])


def stage_progress(stage: RoundStage, done: int, total: int | None = None) -> None:
    updates = {"done": done}
    if total is not None:
        updates["total"] = total
    RoundStage.objects.filter(pk=stage.pk).update(**updates)


def check_not_cancelled(round: Round) -> None:
    status = Round.objects.filter(pk=round.pk).values_list("status", flat=True).first()
    if status == Round.Status.CANCELLED:
        raise RoundCancelled(f"round {round.number} was cancelled")


def stage_attempt(round: Round, name: str, work: Callable[[], T]) -> T | None:
    """``work()`` of stage ``name``, or None when it stopped: the round was cancelled (the work stops where it
    is), or it raised (the round and the stage are marked failed with the error)."""
    try:
        return work()
    except RoundCancelled:
        return None
    except Exception as exc:
        logger.exception("round %s failed in stage %s", round.number, name)
        round_fail(round, name, f"{type(exc).__name__}: {exc}")
        return None


def round_fail(round: Round, stage_name: str, error: str) -> None:
    with transaction.atomic():
        Round.objects.filter(pk=round.pk).exclude(status=Round.Status.CANCELLED).update(
            status=Round.Status.FAILED, error=error[:5000], finished_at=timezone.now()
        )
        RoundStage.objects.filter(round=round, name=stage_name).update(
            status=RoundStage.Status.FAILED, message=error[:2000], finished_at=timezone.now()
        )


def round_succeed(round: Round) -> None:
    Round.objects.filter(pk=round.pk, status=Round.Status.RUNNING).update(
        status=Round.Status.SUCCEEDED, finished_at=timezone.now()
    )


def round_state_update(round: Round, **values) -> None:
    """Keep ``values`` in the round's scratch state (``Round.state``), beside what it holds."""
    round.refresh_from_db(fields=["state"])
    round.state = {**(round.state or {}), **values}
    Round.objects.filter(pk=round.pk).update(state=round.state)
