"""Real workers on real Redis with a short visibility timeout: a task that runs for several timeouts on a live
worker is delivered once, and the task of a worker killed with SIGKILL is delivered again to the other worker
within the timeout and completes there."""

import time
import uuid

import pytest
from celery import states
from django.utils import timezone
from django_celery_results.models import TaskResult

from hull.models import Entry, EntryFeatures
from hull.services.ingest import ingest_file
from hull.tasks import FEATURES_CHUNK, features_compute_task
from portal.workers.models import TaskHeartbeat
from tests.catalogue_files import write_json
from tests.celery_workers import (
    RECOVERY_REDIS_URL,
    Worker,
    forget_redis_keys,
    require_redis,
    sending_to_redis,
    wait_for,
)

VISIBILITY_TIMEOUT = (
    3  # s; an idle worker looks for expired messages every second (settings: timeout // 6, >= 1)
)
REDELIVERED_WITHIN = VISIBILITY_TIMEOUT + 1 + 4  # s after the kill: the timeout, one restore scan, and slack
ENV = {
    "PORTAL_TASK_HEARTBEAT_SECONDS": "0.5",
    "PORTAL_TASK_LOST_AFTER": "3",
    "PORTAL_TASK_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
}


def received(task_id: str, *workers: Worker) -> int:
    return sum(worker.log_path.read_text().count(f"[{task_id}] received") for worker in workers)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_task_is_delivered_again_and_a_live_workers_is_not(tmp_path, mp_entry_dicts):
    require_redis(RECOVERY_REDIS_URL)
    by_size = sorted(mp_entry_dicts, key=lambda item: -len(item["structure"]["sites"]))
    ingest_file(path=write_json(tmp_path / "largest.json.gz", by_size[:FEATURES_CHUNK]))
    # the prototypes and dimensionality of the catalogue's 50 largest structures (one task's most): longer than a
    # visibility timeout and the scan that would restore an expired message (the run's time is checked below)
    ids = list(Entry.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == FEATURES_CHUNK
    tag = uuid.uuid4().hex[:8]
    queue = f"recover-{tag}"
    workers = [
        Worker([queue], tmp_path / f"w{n}.log", ENV, name=f"w{n}-{tag}@%h", broker_url=RECOVERY_REDIS_URL)
        for n in (1, 2)
    ]
    try:
        for worker in workers:
            wait_for(
                lambda w=worker: "ready." in w.log_path.read_text(), 120, "the workers to start", *workers
            )

        with sending_to_redis(RECOVERY_REDIS_URL):
            healthy = features_compute_task.apply_async((ids,), queue=queue)
        row = wait_for(
            lambda: TaskResult.objects.filter(task_id=healthy.id, status=states.SUCCESS).first(),
            180,
            "the healthy task",
            *workers,
        )
        # ran past the moment an unrefreshed message would have been delivered again (timeout + one restore scan)
        assert (row.date_done - row.date_started).total_seconds() > VISIBILITY_TIMEOUT + 1
        assert received(healthy.id, *workers) == 1, "a live worker's task was delivered again"
        assert EntryFeatures.objects.filter(entry_id__in=ids).count() == len(ids)

        with sending_to_redis(RECOVERY_REDIS_URL):
            doomed = features_compute_task.apply_async((ids,), queue=queue)
        beat = wait_for(
            lambda: TaskHeartbeat.objects.filter(
                task_id=doomed.id, started_at__lt=timezone.now() - timezone.timedelta(seconds=1)
            ).first(),
            60,
            "the second task to run for a second",
            *workers,
        )
        victim = next(w for w in workers if w.process.pid == beat.pid)
        survivor = next(w for w in workers if w is not victim)
        victim.kill()
        killed = time.monotonic()
        wait_for(
            lambda: TaskHeartbeat.objects.filter(task_id=doomed.id, pid=survivor.process.pid).exists(),
            REDELIVERED_WITHIN,
            f"the task to be delivered again within {REDELIVERED_WITHIN} s",
            *workers,
            interval=0.2,
        )
        redelivered_after = time.monotonic() - killed
        assert VISIBILITY_TIMEOUT - 1 <= redelivered_after <= REDELIVERED_WITHIN
        wait_for(
            lambda: TaskResult.objects.filter(task_id=doomed.id, status=states.SUCCESS).exists(),
            120,
            "the task to complete on the other worker",
            *workers,
        )
        assert received(doomed.id, survivor) == 1 and received(doomed.id, victim) == 1
        assert not TaskHeartbeat.objects.filter(task_id__in=[healthy.id, doomed.id]).exists()
        ran = (row.date_done - row.date_started).total_seconds()
        print(
            f"a {VISIBILITY_TIMEOUT} s timeout: the healthy task ran {ran:.1f} s; delivered again {redelivered_after:.1f} s after the kill"
        )
    finally:
        for worker in workers:
            worker.stop()
        forget_redis_keys(RECOVERY_REDIS_URL, tag)
