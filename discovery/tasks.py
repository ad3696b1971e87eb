"""Celery tasks of discovery rounds: thin wrappers that load the round and call ``discovery.advance``.

A round advances stage by stage: ``discovery.advance`` finds the next unfinished stage and the
:class:`CeleryExecutor` sends it to the workers (the site's router picks each task's queue by its kind of work:
``portal.workers.routing``); the evaluate stage fans out in chunks as a chord whose callback advances again.
Tasks are acknowledged late and every stage is idempotent, so a task redelivered after a worker died, or a round
resumed, adds nothing twice. Every task carries the round's ``dispatch``: resuming a round (by hand, or by the
recovery sweep once a task lost its worker: ``discovery.recovery``) starts a new one, and a task of an earlier
dispatch (still queued, or delivered again by the broker) does nothing, so one chain of tasks drives a round at a
time.
"""

import logging

from celery import chord, group, shared_task
from django.db import transaction

from discovery.advance import FINISHED, advance, chunk_run, stage_run
from discovery.enqueue import TRAIN_MODELS
from discovery.models import Round
from discovery.stages import evaluate

logger = logging.getLogger(__name__)


class CeleryExecutor:
    """Sends a round's stages to the workers, every task carrying the round's dispatch."""

    def __init__(self, dispatch: int | None) -> None:
        self.dispatch = dispatch

    def stage(self, round: Round, name: str) -> None:
        run_stage_task.apply_async((round.pk, name), {"dispatch": self.dispatch})

    def evaluation(self, round: Round, chunks: list[list[int]]) -> None:
        fan_out = group(evaluate_chunk_task.si(round.pk, chunk, dispatch=self.dispatch) for chunk in chunks)
        chord(fan_out)(round_evaluated_task.si(round.pk, dispatch=self.dispatch))


def _open_round(round_id: int, dispatch: int | None) -> Round | str:
    """The round, or why its task does nothing: "finished", or "superseded" when the round was enqueued again
    since the task was sent. ``dispatch`` None: a task sent before dispatches were numbered."""
    with transaction.atomic():  # waits for a resume in progress (PostgreSQL), which changes the dispatch
        round = Round.objects.select_for_update().filter(pk=round_id).first()
    if round is None or round.status in FINISHED:
        return "finished"
    if dispatch is not None and round.dispatch != dispatch:
        logger.info(
            "round %s: a task of dispatch %s, now %s, does nothing", round.number, dispatch, round.dispatch
        )
        return "superseded"
    return round


def _advance_later(round_id: int, dispatch: int | None) -> None:
    round_advance_task.apply_async((round_id,), {"dispatch": dispatch})


@shared_task(name="discovery.advance", acks_late=True)
def round_advance_task(round_id: int, dispatch: int | None = None) -> str:
    """Send the next unfinished stage of the round to its queue."""
    round = _open_round(round_id, dispatch)
    if isinstance(round, str):
        return round
    return advance(round, CeleryExecutor(dispatch))


@shared_task(name="discovery.run_stage", acks_late=True)
def run_stage_task(round_id: int, name: str, dispatch: int | None = None) -> str:
    round = _open_round(round_id, dispatch)
    if isinstance(round, str):
        return round
    if not stage_run(round, name):
        return "stopped"
    _advance_later(round_id, dispatch)
    return "done"


@shared_task(name="discovery.evaluate_chunk", acks_late=True)
def evaluate_chunk_task(round_id: int, candidate_pks: list[int], dispatch: int | None = None) -> int:
    round = _open_round(round_id, dispatch)
    if isinstance(round, str):
        return 0
    return chunk_run(round, candidate_pks) or 0


@shared_task(name="discovery.evaluated", acks_late=True)
def round_evaluated_task(round_id: int, dispatch: int | None = None) -> str:
    """The chord's callback: close the evaluate stage, or fan out again what is left (a lost chunk)."""
    round = _open_round(round_id, dispatch)
    if isinstance(round, str):
        return round
    evaluate.finish(round)
    _advance_later(round_id, dispatch)
    return "advanced"


@shared_task(name=TRAIN_MODELS, acks_late=True)
def training_run_task(job_id: int) -> str:
    """Train the ensemble of a training job (``discovery.training``); a job already claimed does nothing."""
    from discovery.training import training_run

    job = training_run(job_id=job_id)
    return "not pending" if job is None else f"registered {job.model.name}"
