"""Celery tasks of the catalogue: thin wrappers that call a service and return a JSON-able result. Services
enqueue them through :mod:`hull.enqueue`, never by importing this module."""

from celery import shared_task

from hull.enqueue import FEATURES_COMPUTE, features_compute_enqueue
from hull.services.ingest import IngestFailed, ingest_file
from hull.services.stability import hull_update


@shared_task(name="hull.ingest_file")
def ingest_file_task(
    path: str, fmt: str = "auto", source: str | None = None, skip_invalid: bool = False
) -> dict:
    """Ingest a file in the background; the result (stored in the database) is the ingest report."""
    try:
        report = ingest_file(path=path, fmt=fmt, source=source, skip_invalid=skip_invalid)
    except IngestFailed as exc:
        return {"status": "failed", "error": str(exc), **exc.report.as_dict()}
    return {"status": "succeeded", "batch": report.batch_id, **report.as_dict()}


@shared_task(name="hull.rebuild")
def hull_rebuild_task() -> str:
    """Recompute the stability of the whole catalogue."""
    return str(hull_update(touched=None))


FEATURES_CHUNK = 50  # entries per task, so that other tasks interleave with a large backfill


@shared_task(name=FEATURES_COMPUTE, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def features_compute_task(entry_ids: list[int], prototypes: bool = True) -> dict:
    """Structure prototype and dimensionality of new structures (the family screens read them). For a long
    list the prototypes are assigned here in one pass (new keys depend on the keys given out before) and the
    dimensionality, seconds per structure, is split into tasks of ``FEATURES_CHUNK`` entries."""
    from hull.services.features import features_compute

    if len(entry_ids) <= FEATURES_CHUNK:
        return features_compute(entry_ids=entry_ids, prototypes=prototypes).as_dict()
    report = features_compute(entry_ids=entry_ids, dimensionality=False) if prototypes else None
    for start in range(0, len(entry_ids), FEATURES_CHUNK):
        features_compute_enqueue(entry_ids[start : start + FEATURES_CHUNK], prototypes=False)
    return {
        "prototypes": report.as_dict() if report else None,
        "dimensionality_tasks": -(-len(entry_ids) // FEATURES_CHUNK),
    }
