"""The embedded default's workers (``portal.workers.layout``, as ``scripts/start.sh`` starts them: a worker per
queue, on kombu's filesystem broker, SQLite) while a long batch of structure features computes: a round launched
meanwhile starts its first stage within 10 s, with the features still computing and still queued."""

import time
import uuid

import pytest

from discovery.models import Round, RoundStage
from discovery.services import round_cancel, round_create
from hull.enqueue import features_compute_enqueue
from hull.models import Entry
from hull.services.ingest import ingest_file
from portal.workers.layout import EMBEDDED
from portal.workers.models import TaskHeartbeat, WorkerNode
from portal.workers.queues import queue_depths
from tests.catalogue_files import write_json
from tests.celery_workers import PlannedWorker, queues_of_test, sending_to_filesystem, wait_for
from tests.conftest import subset
from tests.discovery.test_rounds_on_workers import CONFIG

STARTS_WITHIN = 10.0  # s from the launch to the first stage running
BATCHES = 3  # the same long batch queued this many times: features for minutes


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_round_starts_within_seconds_while_features_compute(tmp_path, mp_entry_dicts, settings):
    tag = uuid.uuid4().hex[:8]
    var = tmp_path / "var"
    env = {**queues_of_test(settings, tag), "PORTAL_VAR_DIR": str(var)}
    workers = [
        PlannedWorker(plan, tmp_path / f"{plan.kind}.log", env, f"{plan.kind}-{tag}@%h", "filesystem://")
        for plan in EMBEDDED
    ]
    try:
        # the round's catalogue and the catalogue's largest structures, while the workers start
        largest = sorted(mp_entry_dicts, key=lambda item: -len(item["structure"]["sites"]))[:100]
        small = [
            i for i in subset(mp_entry_dicts, {"Li", "Na", "Co", "O"}) if len(i["structure"]["sites"]) <= 24
        ]
        ingest_file(path=write_json(tmp_path / "catalogue.json", small + largest))
        batch = list(
            Entry.objects.filter(source_id__in=[i["entry_id"] for i in largest]).values_list("pk", flat=True)
        )
        assert len(batch) == len(largest)
        names = {f"{plan.kind}-{tag}@" for plan in EMBEDDED}
        wait_for(
            lambda: (
                {n.name.split("@")[0] + "@" for n in WorkerNode.objects.filter(name__contains=tag)} == names
            ),
            240,
            "every worker of the embedded default to be ready",
            *workers,
        )
        with sending_to_filesystem(var):
            for _ in range(BATCHES):
                features_compute_enqueue(batch)
            wait_for(
                lambda: (
                    TaskHeartbeat.objects.filter(task_name="hull.features_compute", lost_at=None).count() >= 2
                ),
                120,
                "features computing in two processes",
                *workers,
            )
            launched = time.monotonic()
            round = round_create(config=CONFIG)
            stage = wait_for(
                lambda: RoundStage.objects.filter(
                    round=round, name="generate", started_at__isnull=False
                ).first(),
                60,
                "the round's first stage to start",
                *workers,
                interval=0.1,
            )
            started_after = time.monotonic() - launched
            # the features were still being computed, with more waiting, when the round started
            computing = TaskHeartbeat.objects.filter(task_name="hull.features_compute").count()
            waiting = queue_depths(names=[settings.PORTAL_BACKGROUND_QUEUE])[settings.PORTAL_BACKGROUND_QUEUE]
        round.refresh_from_db()
        round_cancel(round=round)
        print(f"the round's first stage started {started_after:.1f} s after its launch")
        assert started_after <= STARTS_WITHIN, f"started after {started_after:.1f} s"
        assert (stage.started_at - round.created_at).total_seconds() <= STARTS_WITHIN
        assert computing >= 1 and waiting and waiting >= 1, (computing, waiting)
        rounds_worker = next(w for w in workers if w.queues == [settings.PORTAL_ROUNDS_QUEUE])
        assert "discovery.run_stage" in rounds_worker.log()
        assert Round.objects.get(pk=round.pk).status == Round.Status.CANCELLED
    finally:
        for worker in workers:
            worker.stop()
