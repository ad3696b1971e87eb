"""Which queue each task goes to: one table of the kinds of work, read by Celery's router (``CELERY_TASK_ROUTES``
names :func:`route_task`) and by the pages that say where work waits. Call sites send tasks without a queue.

- interactive: short work someone waits for: the hull update after a round's ingest, a hull rebuild, the
  recovery sweep;
- rounds: the stages that move a discovery round on (generate, filter, ingest, metrics) and its advancing;
- heavy: CHGNet evaluation, retraining and model training, minutes each: the queue a GPU host's worker takes;
- background: structure features of new entries, hours after a fresh start, which nothing waits for.

Each kind's queue name is a setting (``PORTAL_<KIND>_QUEUE``)."""

from django.conf import settings

from discovery.enqueue import BENCHMARK_RUN, TRAIN_MODELS
from discovery.models import RoundStage
from hull.enqueue import FEATURES_COMPUTE

INTERACTIVE, ROUNDS, HEAVY, BACKGROUND = "interactive", "rounds", "heavy", "background"
KINDS = (INTERACTIVE, ROUNDS, HEAVY, BACKGROUND)

RUN_STAGE = "discovery.run_stage"
"""The task that runs one stage of a round: routed by its stage (``STAGE_KINDS``)."""

STAGE_KINDS = {
    RoundStage.Name.GENERATE: ROUNDS,
    RoundStage.Name.FILTER: ROUNDS,
    RoundStage.Name.EVALUATE: HEAVY,  # its chunks (the stage itself is begun by the advancing task)
    RoundStage.Name.INGEST: ROUNDS,
    RoundStage.Name.HULL: INTERACTIVE,
    RoundStage.Name.RETRAIN: HEAVY,
    RoundStage.Name.METRICS: ROUNDS,
}

TASK_KINDS = {
    "discovery.advance": ROUNDS,
    "discovery.evaluated": ROUNDS,  # the evaluation's chord callback: closes the stage and advances
    "discovery.evaluate_chunk": HEAVY,
    TRAIN_MODELS: HEAVY,
    BENCHMARK_RUN: HEAVY,  # rounds with CHGNet evaluations, run in one process
    "hull.ingest_file": ROUNDS,
    "hull.rebuild": INTERACTIVE,
    FEATURES_COMPUTE: BACKGROUND,
    "portal.recover_lost_work": INTERACTIVE,
}


def queue_of(kind: str) -> str:
    """The queue of a kind of work, from its setting (``PORTAL_ROUNDS_QUEUE`` for ``rounds``)."""
    if kind not in KINDS:
        raise ValueError(f"no kind of work {kind!r}: one of {', '.join(KINDS)}")
    return getattr(settings, f"PORTAL_{kind.upper()}_QUEUE")


def queues() -> dict[str, str]:
    """Every kind of work and its queue, in the order of ``KINDS``."""
    return {kind: queue_of(kind) for kind in KINDS}


def kind_of_task(name: str, args=(), kwargs=None) -> str | None:
    """The kind of work of task ``name`` called with ``args`` and ``kwargs``; None for a task the table does not
    name (Celery's own)."""
    if name == RUN_STAGE:
        return STAGE_KINDS.get((kwargs or {}).get("name") or (args[1] if len(args) > 1 else None), ROUNDS)
    return TASK_KINDS.get(name)


def queue_for_stage(stage: str) -> str:
    """The queue the work of a round's ``stage`` waits on (the rounds queue for what is not a stage: the end)."""
    return queue_of(STAGE_KINDS.get(stage, ROUNDS))


def queue_for_task(name: str) -> str | None:
    """The queue of a task that is not a stage (``TASK_KINDS``)."""
    kind = TASK_KINDS.get(name)
    return queue_of(kind) if kind else None


def route_task(name, args, kwargs, options, task=None, **kw) -> dict | None:
    """Celery's router: the queue of the task's kind of work (a queue given at the call wins); None leaves a task
    the table does not name to the default queue (the rounds queue)."""
    kind = kind_of_task(name, args or (), kwargs)
    return {"queue": queue_of(kind)} if kind else None
