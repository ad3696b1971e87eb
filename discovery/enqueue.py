"""Background work that discovery's services start, sent by task name. The task modules import the services
(a task is a thin wrapper around one), so a service that imported a task module would close an import circle;
the tasks register these names, the services enqueue through the functions here (as in :mod:`hull.enqueue`)."""

from celery import signature
from django.conf import settings

TRAIN_MODELS = "discovery.train_models"
BENCHMARK_RUN = "discovery.benchmark_run"


def training_enqueue(job_id: int) -> None:
    """Train the ensemble of training job ``job_id`` on the GPU queue (a CPU worker serves it where none exists)."""
    signature(TRAIN_MODELS, args=(job_id,), queue=settings.PORTAL_GPU_QUEUE).apply_async()


def benchmark_enqueue(options: dict, name: str, command: str) -> None:
    """Run the rediscovery benchmark job ``name`` with checked ``options`` in the background."""
    signature(BENCHMARK_RUN, args=(options, name, command)).delay()
