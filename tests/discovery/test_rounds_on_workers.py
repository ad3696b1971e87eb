"""A round through real Celery workers against Redis: a worker killed mid-evaluation, the round resumed on a
new worker, no duplicate entries and a consistent hull."""

import time
import uuid

import pytest

from discovery.ml_adapter import models_train
from discovery.models import Candidate, Round, RoundStage
from discovery.services import round_create, round_resume
from hull.hull_check import hull_differences
from hull.models import Entry
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.celery_workers import Worker, require_redis, sending_to_redis
from tests.conftest import subset

CONFIG = {
    "elements": ["Li", "Na", "Co", "O"],
    "generators": ["substitution", "saps"],
    "budget": 10,
    "eval_budget": 3,
    "baseline_size": 1,
    "threshold": 1.0,
    "ensemble_size": 1,
    "volumes": 2,
    "relax_steps": 10,
    "chunk_size": 1,
    "hull_set": "all",
}


def wait_for(condition, timeout: float, what: str, worker: Worker):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.log()}")


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_round_survives_a_killed_worker(tmp_path, mp_entry_dicts, settings):
    require_redis()
    tag = uuid.uuid4().hex[:8]
    settings.PORTAL_CPU_QUEUE, settings.PORTAL_GPU_QUEUE = f"cpu-{tag}", f"gpu-{tag}"
    settings.PORTAL_MODEL_DIR = tmp_path / "models"
    items = [i for i in subset(mp_entry_dicts, {"Li", "Na", "Co", "O"}) if len(i["structure"]["sites"]) <= 24]
    ingest_file(path=write_json(tmp_path / "catalogue.json", items))
    models_train(kind="structural", config_name="tiny", n_models=1, epochs=2, name="tiny-structural")
    env = {
        "PORTAL_CPU_QUEUE": settings.PORTAL_CPU_QUEUE,
        "PORTAL_GPU_QUEUE": settings.PORTAL_GPU_QUEUE,
        "PORTAL_MODEL_DIR": str(settings.PORTAL_MODEL_DIR),
    }
    queues = [settings.PORTAL_CPU_QUEUE, settings.PORTAL_GPU_QUEUE]
    first = Worker(queues, tmp_path / "worker1.log", env)
    second = None
    try:
        with sending_to_redis():
            round = round_create(config=CONFIG)
            wait_for(
                lambda: Candidate.objects.filter(round=round, status__in=["evaluated", "failed"]).exists(),
                900,
                "the first evaluation",
                first,
            )
            first.kill()
            round.refresh_from_db()
            assert round.status == Round.Status.RUNNING
            second = Worker(queues, tmp_path / "worker2.log", env)
            round_resume(round=round)
            wait_for(
                lambda: Round.objects.get(pk=round.pk).status != Round.Status.RUNNING,
                1200,
                "the round to finish",
                second,
            )
        round.refresh_from_db()
        assert round.status == Round.Status.SUCCEEDED, round.error
        assert RoundStage.objects.get(round=round, name="evaluate").status == "succeeded"
        ingested = Candidate.objects.filter(round=round, status=Candidate.Status.INGESTED)
        entries = Entry.objects.filter(source="discovery")
        assert entries.count() == ingested.count()
        assert len(set(entries.values_list("source_id", flat=True))) == entries.count()
        assert hull_differences() == []
    finally:
        first.stop()
        if second is not None:
            second.stop()
