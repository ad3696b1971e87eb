"""The workers of the embedded default, one per kind of work (``portal.workers.routing``): what
``scripts/start.sh`` starts (``manage.py embedded_workers`` prints them) and what the tests of the queues start.

Each queue has a worker of its own, so that no kind of work waits behind another: a round launched while the
catalogue's features compute starts at once, and a model training never holds up a round's generate stage. The
background worker computes features in a process per core (Celery's prefork pool; a batch is split into tasks of
``hull.tasks.FEATURES_CHUNK`` entries) at a lower priority (``nice``), so that the other workers keep their share
of the cores; the others run one task at a time in their own process (the solo pool), as CHGNet and JAX use the
cores themselves."""

from dataclasses import dataclass

from portal.workers.routing import BACKGROUND, HEAVY, INTERACTIVE, ROUNDS, queue_of


@dataclass(frozen=True)
class WorkerPlan:
    """One worker: the kind of work it takes, its pool, whether beat (the recovery sweep's clock) runs inside it,
    and its niceness."""

    kind: str
    pool: str = "solo"
    beat: bool = False
    nice: int = 0

    def arguments(self, *, name: str | None = None) -> list[str]:
        """The arguments of ``celery -A portal`` that start it, named ``name`` (default ``<kind>@<host>``)."""
        arguments = [
            "worker",
            f"--pool={self.pool}",
            "-Q",
            queue_of(self.kind),
            "-n",
            name or f"{self.kind}@%h",
        ]
        return [*arguments, "-B"] if self.beat else arguments


EMBEDDED = (
    WorkerPlan(INTERACTIVE, beat=True),
    WorkerPlan(ROUNDS),
    WorkerPlan(HEAVY),
    WorkerPlan(BACKGROUND, pool="prefork", nice=10),
)
