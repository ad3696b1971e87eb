"""How a round moves on: :func:`advance` finds its next unfinished stage and hands it to an executor, which runs
it here (:class:`InlineExecutor`, ``manage.py run_discovery``) or sends it to the Celery workers
(``discovery.tasks.CeleryExecutor``). Both run a stage with :func:`stage_run`, so a stage runs, stops on
cancellation and fails the same way wherever it runs."""

from collections.abc import Callable
from typing import Protocol

from discovery.models import Round, RoundStage
from discovery.stages import evaluate, filter, generate, hull, ingest, metrics, retrain
from discovery.stages.bookkeeping import next_stage, round_succeed, stage_attempt

FINISHED = (Round.Status.SUCCEEDED, Round.Status.FAILED, Round.Status.CANCELLED)

RUNNERS: dict[str, Callable[[Round], object]] = {
    RoundStage.Name.GENERATE: generate.run,
    RoundStage.Name.FILTER: filter.run,
    RoundStage.Name.EVALUATE: evaluate.run,
    RoundStage.Name.INGEST: ingest.run,
    RoundStage.Name.HULL: hull.run,
    RoundStage.Name.RETRAIN: retrain.run,
    RoundStage.Name.METRICS: metrics.run,
}


class Executor(Protocol):
    """Where a round's stages run. After either call the round advances again (at once here, through a task
    on the workers)."""

    def stage(self, round: Round, name: str) -> None:
        """Run stage ``name`` (any stage but evaluate) with :func:`stage_run`."""

    def evaluation(self, round: Round, chunks: list[list[int]]) -> None:
        """Evaluate ``chunks`` (:func:`chunk_run` each), then ``evaluate.finish``."""


def stage_run(round: Round, name: str) -> bool:
    """Run stage ``name`` to completion in this process; False when it stopped (cancelled, or failed: the round
    is then marked failed)."""
    return stage_attempt(round, name, lambda: RUNNERS[name](round) or True) is not None


def chunk_run(round: Round, candidate_pks: list[int]) -> int | None:
    """Evaluate one chunk of the evaluate stage in this process: how many candidates it evaluated, or None when
    it stopped (as :func:`stage_run`)."""
    return stage_attempt(round, RoundStage.Name.EVALUATE, lambda: evaluate.chunk(round, candidate_pks))


def advance(round: Round, executor: Executor) -> str:
    """Hand the round's next unfinished stage to ``executor``, or mark the round succeeded when none is left;
    returns what was done. The evaluate stage is begun here and its chunks handed over together."""
    name = next_stage(round)
    if name is None:
        round_succeed(round)
        return "succeeded"
    if name != RoundStage.Name.EVALUATE:
        executor.stage(round, name)
        return name
    if stage_attempt(round, name, lambda: evaluate.begin(round)) is None:
        return "stopped"
    chunks = evaluate.chunks(round)
    if not chunks:
        evaluate.finish(round)
        return advance(round, executor)
    executor.evaluation(round, chunks)
    return f"evaluate: {len(chunks)} chunks"


class InlineExecutor:
    """Runs every stage in this process, the evaluation chunks in turn."""

    def stage(self, round: Round, name: str) -> None:
        stage_run(round, name)

    def evaluation(self, round: Round, chunks: list[list[int]]) -> None:
        for candidate_pks in chunks:
            if chunk_run(round, candidate_pks) is None:
                return
        evaluate.finish(round)


def run_round_inline(round: Round) -> Round:
    """Every remaining stage of ``round`` in this process, in order, until it succeeds, fails or is cancelled."""
    executor = InlineExecutor()
    round.refresh_from_db()
    while round.status not in FINISHED:
        before = next_stage(round)
        advance(round, executor)
        round.refresh_from_db()
        if round.status not in FINISHED and next_stage(round) == before:
            break  # nothing moved (a round left pending with every stage done): stop rather than spin
    return round
