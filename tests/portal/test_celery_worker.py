"""A real Celery worker process, against real Redis, runs an ingest task end to end (not eager mode)."""

import time
import uuid

import pytest
from django_celery_results.models import TaskResult

from hull.models import Entry
from hull.tasks import ingest_file_task
from tests.celery_workers import Worker, require_redis, sending_to_redis


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_worker_runs_an_ingest_task_end_to_end(tmp_path, li_o_file):
    require_redis()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = Worker([queue], tmp_path / "worker.log")
    try:
        with sending_to_redis():
            result = ingest_file_task.apply_async(args=[str(li_o_file)], queue=queue)
        deadline = time.monotonic() + 300
        row = None
        while time.monotonic() < deadline and row is None:
            row = TaskResult.objects.filter(task_id=result.id, status="SUCCESS").first()
            time.sleep(0.5)
        assert row is not None, f"task did not finish; worker log:\n{worker.log()}"
        assert '"status": "succeeded"' in row.result and '"loaded": 57' in row.result
        assert row.task_name == "hull.ingest_file"
        assert Entry.objects.filter(chemsys_id="Li-O").count() == 25
        assert "succeeded in" in worker.log()
    finally:
        worker.stop()
