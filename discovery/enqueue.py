"""Background work that discovery's services start, sent by task name. The task modules import the services
(a task is a thin wrapper around one), so a service that imported a task module would close an import circle;
the tasks register these names, the services enqueue through the functions here (as in :mod:`hull.enqueue`).
The site's router picks each task's queue by its name (``portal.workers.routing``)."""

from celery import signature

TRAIN_MODELS = "discovery.train_models"
BENCHMARK_RUN = "discovery.benchmark_run"


def training_enqueue(job_id: int) -> None:
    """Train the ensemble of training job ``job_id`` on the workers of heavy work."""
    signature(TRAIN_MODELS, args=(job_id,)).apply_async()


def benchmark_enqueue(options: dict, name: str, command: str) -> None:
    """Run the rediscovery benchmark job ``name`` with checked ``options`` in the background."""
    signature(BENCHMARK_RUN, args=(options, name, command)).delay()
