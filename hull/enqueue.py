"""Background work that the catalogue's services start, sent by task name. The task modules import the services
(a task is a thin wrapper around one), so a service that imported a task module would close an import circle;
both import this module instead: the tasks for the names they register, the services to enqueue."""

from celery import signature

FEATURES_COMPUTE = "hull.features_compute"


def features_compute_enqueue(entry_ids: list[int], *, prototypes: bool = True) -> None:
    """Compute the structure features (prototype, dimensionality) of ``entry_ids`` in the background. Through
    the registered task where this process has imported it (so ``task_always_eager`` runs it here), by name
    through the broker otherwise: the same message either way."""
    signature(FEATURES_COMPUTE, args=(entry_ids,), kwargs={"prototypes": prototypes}).delay()
