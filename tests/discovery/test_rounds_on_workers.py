"""A round through real Celery workers against Redis: the worker evaluating a chunk is killed with SIGKILL, and
with nobody pressing Resume the recovery sweep (sent by beat) fails the lost task's result and resumes the
round on the other worker, within a stated time; no duplicate entries, one evaluation per candidate and a
consistent hull. (Redis delivering the lost message again is tested in tests/portal/test_workers_recover_on_redis.py,
and that a task of the earlier dispatch does nothing in test_round_recovery.py.)"""

import time
import uuid

import pytest
from billiard.exceptions import WorkerLostError
from celery import states
from celery.result import AsyncResult
from django.utils import timezone
from django_celery_results.models import TaskResult

from discovery.ml_adapter import models_train
from discovery.models import Candidate, Round, RoundStage
from discovery.services import round_create
from hull.hull_check import hull_differences
from hull.models import Entry
from hull.services.ingest import ingest_file
from portal.celery import app
from portal.workers.models import TaskHeartbeat
from tests.catalogue_files import write_json
from tests.celery_workers import (
    RECOVERY_REDIS_URL,
    Beat,
    Worker,
    forget_redis_keys,
    queues_of_test,
    require_redis,
    sending_to_redis,
    wait_for,
)
from tests.conftest import subset

CONFIG = {
    "elements": ["Li", "Na", "Co", "O"],
    "generators": ["substitution", "saps"],
    "budget": 10,
    "eval_budget": 2,
    "baseline_size": 0,
    "threshold": 1.0,
    "ensemble_size": 1,
    "volumes": 2,
    "relax_steps": 10,
    "chunk_size": 1,
    "hull_set": "all",
}
# Heartbeats every second, lost after 4 s of silence, the sweep every 2 s. The sweep resumes the round once it
# runs after the silence and none of the round's tasks still runs: within 4 + 2 s of the kill, plus the chunk
# the other (solo) worker is evaluating (CHGNet's first load included: up to ~30 s on this loaded machine).
# Redis would deliver the lost message again only after 120 s, so the sweep is what recovers here.
ENV = {
    "PORTAL_TASK_HEARTBEAT_SECONDS": "1",
    "PORTAL_TASK_LOST_AFTER": "4",
    "PORTAL_RECOVERY_SWEEP_SECONDS": "2",
    "PORTAL_TASK_VISIBILITY_TIMEOUT": "120",
}
RESUMED_WITHIN = 60  # s after the kill
FINISHED_WITHIN = 100  # s after the kill


def received(task_id: str, *workers: Worker) -> int:
    return sum(worker.log_path.read_text().count(f"[{task_id}] received") for worker in workers)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_round_recovers_from_a_killed_worker_by_itself(tmp_path, mp_entry_dicts, settings):
    require_redis(RECOVERY_REDIS_URL)
    tag = uuid.uuid4().hex[:8]
    queues = queues_of_test(settings, tag)  # both workers take every queue
    settings.PORTAL_MODEL_DIR = tmp_path / "models"
    env = {**ENV, **queues, "PORTAL_MODEL_DIR": str(settings.PORTAL_MODEL_DIR)}
    queues = sorted(queues.values())
    processes = [
        Worker(queues, tmp_path / f"w{n}.log", env, name=f"w{n}-{tag}@%h", broker_url=RECOVERY_REDIS_URL)
        for n in (1, 2)
    ]
    processes.append(Beat(tmp_path / "beat.log", env, broker_url=RECOVERY_REDIS_URL))
    workers = processes[:2]
    try:
        # the catalogue and the model while the workers start
        items = [
            i for i in subset(mp_entry_dicts, {"Li", "Na", "Co", "O"}) if len(i["structure"]["sites"]) <= 24
        ]
        ingest_file(path=write_json(tmp_path / "catalogue.json", items))
        models_train(kind="structural", config_name="tiny", n_models=1, epochs=2, name="tiny-structural")
        with sending_to_redis(RECOVERY_REDIS_URL):
            round = round_create(config=CONFIG)
        # a chunk of the evaluation that has been relaxing for a second and a half
        beat = wait_for(
            lambda: TaskHeartbeat.objects.filter(
                task_name="discovery.evaluate_chunk",
                lost_at__isnull=True,
                started_at__lt=timezone.now() - timezone.timedelta(seconds=1.5),
            ).first(),
            600,
            "a chunk of the evaluation",
            *processes,
        )
        victim = next(w for w in workers if w.process.pid == beat.pid)
        survivor = next(w for w in workers if w is not victim)
        victim.kill()
        killed = time.monotonic()
        assert Round.objects.get(pk=round.pk).status == Round.Status.RUNNING

        wait_for(
            lambda: Round.objects.get(pk=round.pk).dispatch == 2,
            RESUMED_WITHIN,
            f"the sweep to resume the round within {RESUMED_WITHIN} s",
            *processes,
        )
        resumed_after = time.monotonic() - killed
        lost = AsyncResult(beat.task_id, app=app)
        assert lost.state == states.FAILURE and isinstance(lost.result, WorkerLostError)
        assert victim.log_path.stem in beat.worker and "stopped before it finished" in str(lost.result)

        wait_for(
            lambda: Round.objects.get(pk=round.pk).status != Round.Status.RUNNING,
            FINISHED_WITHIN - (time.monotonic() - killed),
            f"the round to finish within {FINISHED_WITHIN} s",
            *processes,
        )
        finished_after = time.monotonic() - killed
        round.refresh_from_db()
        assert round.status == Round.Status.SUCCEEDED, round.error
        assert RoundStage.objects.get(round=round, name="evaluate").status == "succeeded"

        # nothing twice: one entry per ingested candidate, each candidate evaluated once, a consistent hull
        ingested = Candidate.objects.filter(round=round, status=Candidate.Status.INGESTED)
        entries = Entry.objects.filter(source="discovery")
        assert entries.count() == ingested.count() > 0
        assert len(set(entries.values_list("source_id", flat=True))) == entries.count()
        assert not round.candidates.filter(status=Candidate.Status.SELECTED).exists()
        assert round.candidates.filter(pk__in=beat.args[1]).count() == len(
            beat.args[1]
        )  # the lost chunk's, done
        # the round's last task ran on the other worker (its result is logged just after it marks the round done)
        wait_for(lambda: "'finished'" in survivor.log(), 30, "the last task's result in the log", *processes)
        chosen = round.candidates.filter(kept=True) | round.candidates.filter(baseline=True)
        evaluations = TaskResult.objects.filter(task_name="discovery.evaluate_chunk", status=states.SUCCESS)
        assert sum(int(r.result) for r in evaluations) <= chosen.distinct().count()  # a write per candidate
        assert hull_differences() == []

        for task_id in TaskResult.objects.values_list("task_id", flat=True):
            assert received(task_id, *workers) == 1, f"task {task_id} was delivered twice"
        print(f"resumed {resumed_after:.1f} s and finished {finished_after:.1f} s after the kill")
    finally:
        for process in processes:
            process.stop()
        forget_redis_keys(RECOVERY_REDIS_URL, tag)
