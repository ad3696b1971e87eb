"""The dashboard's live state: /discovery/status.json (read-only, what the page polls), the reason an open round
waits (its own running task, the queue it waits on and its length in real Redis, the workers' other tasks), each
queue's length and its workers, the round's settings on the page, and the launch form's estimated duration from the
stage times of finished rounds."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from discovery.config import RoundConfig
from discovery.estimate import UNITS, round_estimate
from discovery.models import Round, RoundStage
from discovery.services import round_create
from portal.workers.models import TaskHeartbeat, WorkerNode
from portal.workers.nodes import node_register

pytestmark = pytest.mark.django_db

STATUS = "/discovery/status.json"
CONFIG = {
    "elements": ["Li", "Mn", "O"],
    "generators": ["substitution", "saps"],
    "budget": 40,
    "eval_budget": 4,
}


def _heartbeat(
    task_name: str, args: list, worker: str = "celery@lab", minutes: float = 2.0, lost: bool = False
):
    started = timezone.now() - dt.timedelta(minutes=minutes)
    return TaskHeartbeat.objects.create(
        task_id=uuid.uuid4().hex,
        task_name=task_name,
        args=args,
        worker=worker,
        pid=4242,
        started_at=started,
        beat_at=started,
        lost_at=timezone.now() if lost else None,
    )


@pytest.fixture
def pending_round(catalogue):
    return round_create(config=CONFIG, enqueue=False)


def test_status_is_read_only_json_of_the_open_rounds(client, pending_round):
    response = client.get(STATUS)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["unfinished"] is True
    (row,) = data["rounds"]
    assert (row["number"], row["status"]) == (pending_round.number, "pending")
    assert [s["name"] for s in row["stages"]] == list(RoundStage.Name.values)
    assert row["actions"] == ["cancel", "resume"]
    assert client.post(STATUS).status_code == 405


def test_a_finished_round_is_reported_once_asked_for_and_polling_may_stop(client, pending_round):
    Round.objects.filter(pk=pending_round.pk).update(
        status=Round.Status.SUCCEEDED, finished_at=timezone.now()
    )
    data = client.get(STATUS).json()
    assert [q["kind"] for q in data.pop("queues")] == ["interactive", "rounds", "heavy", "background"]
    assert data == {"rounds": [], "training": [], "benchmark": None, "unfinished": False}
    (row,) = client.get(STATUS, {"rounds": str(pending_round.number)}).json()["rounds"]
    assert row["status"] == "succeeded" and row["waiting"] == "" and row["actions"] == []


def test_a_round_whose_task_runs_says_where_and_offers_no_resume(client, admin_client, pending_round):
    _heartbeat("discovery.run_stage", [pending_round.pk, "generate", 1], worker="celery@node7")
    (row,) = admin_client.get(STATUS).json()["rounds"]
    assert row["waiting"] == "Running on celery@node7: the generate stage of round 1, for 2 min."
    assert row["actions"] == ["cancel"]
    # the public reads the same without the workers' host names
    (row,) = client.get(STATUS).json()["rounds"]
    assert row["waiting"] == "Running on a worker: the generate stage of round 1, for 2 min."


def test_a_round_behind_other_work_says_so(admin_client, pending_round):
    _heartbeat("hull.features_compute", [[1, 2, 3]], worker="celery@only", minutes=5)
    (row,) = admin_client.get(STATUS).json()["rounds"]
    assert row["waiting"].startswith("Waiting: its generate stage is next")
    assert "workers busy now: celery@only runs hull.features_compute (for 5 min)" in row["waiting"]


def test_no_worker_at_all_is_said_honestly(client, pending_round):
    (row,) = client.get(STATUS).json()["rounds"]
    assert (
        "no worker is running a task now: waiting for a worker that takes tasks from 'rounds'"
        in row["waiting"]
    )


def test_a_lost_task_is_named_with_its_worker(admin_client, pending_round):
    _heartbeat("discovery.advance", [pending_round.pk], worker="celery@gone", lost=True)
    (row,) = admin_client.get(STATUS).json()["rounds"]
    assert row["waiting"].startswith("Stalled: its task lost its worker celery@gone")
    assert row["actions"] == ["cancel", "resume"]


def test_queue_length_read_from_real_redis(client, settings, pending_round):
    """Three tasks wait on the round's queue in Redis (the round's own among them): two are ahead of it."""
    from portal.celery import app
    from tests.celery_workers import (
        REDIS_URL,
        forget_redis_keys,
        queues_of_test,
        require_redis,
        sending_to_redis,
    )

    require_redis()
    tag = uuid.uuid4().hex[:8]
    queues_of_test(settings, tag)
    try:
        with sending_to_redis():
            for n in range(3):
                app.send_task("discovery.advance", args=(10_000 + n,))  # the router sends them to rounds
            app.send_task("hull.features_compute", args=([1],))
            data = client.get(STATUS).json()
    finally:
        forget_redis_keys(REDIS_URL, tag)
    (row,) = data["rounds"]
    assert f"its generate stage is next, queued on 'rounds-{tag}' behind 2 other tasks" in row["waiting"]
    assert row["actions"] == ["cancel"]  # its task waits in the queue: resuming would send a second copy
    lengths = {q["queue"]: (q["length"], q["length_text"]) for q in data["queues"]}
    assert lengths == {
        f"interactive-{tag}": (0, "none"),
        f"rounds-{tag}": (3, "3 tasks"),
        f"heavy-{tag}": (0, "none"),
        f"background-{tag}": (1, "1 task"),
    }


def test_the_page_shows_settings_and_the_reason(client, pending_round):
    html = client.get("/discovery/").content.decode()
    assert 'id="live-status"' in html and 'data-status-url="/discovery/status.json"' in html
    assert "portal/dashboard.js" in html and "live-refresh" not in html
    section = html[html.index('id="round-1"') :]
    for text in (
        "Li, Mn, O",
        "substitution, SAPS",
        "Candidates generated",
        "<dd>40</dd>",
        "CHGNet",
        "50 meV/atom",
    ):
        assert text in section, text
    assert "its generate stage is next" in section
    assert "saps" not in section.replace("SAPS", "") and "per_composition" not in section


def _timed_round(number: int, config: dict, seconds: dict[str, float]) -> Round:
    """A succeeded round whose stages took ``seconds``, as the stages record their times."""
    start = timezone.now() - dt.timedelta(hours=number)
    round = round_create(config=config, enqueue=False)
    Round.objects.filter(pk=round.pk).update(status=Round.Status.SUCCEEDED, finished_at=start)
    for stage in round.stages.all():
        took = seconds.get(stage.name)
        stage.status = RoundStage.Status.SUCCEEDED if took is not None else RoundStage.Status.SKIPPED
        stage.started_at = start
        stage.finished_at = start + dt.timedelta(seconds=took or 0)
        stage.save()
    return round


def test_the_estimate_scales_measured_stage_rates(client, catalogue):
    assert "no estimate yet" in round_estimate(plan=RoundConfig()).text()
    measured = [
        ({**CONFIG, "budget": 100, "ensemble_size": 2, "eval_budget": 10, "baseline_size": 0}, 30.0),
        ({**CONFIG, "budget": 300, "ensemble_size": 4, "eval_budget": 20, "baseline_size": 10}, 90.0),
    ]
    for i, (config, took) in enumerate(measured, start=1):
        _timed_round(
            i,
            config,
            dict.fromkeys(("generate", "filter", "evaluate", "ingest", "hull", "metrics"), took),
        )
    plan = RoundConfig(budget=500, ensemble_size=3, eval_budget=50, baseline_size=5)
    expected = 0.0
    for name, (_unit, units_of) in UNITS.items():
        if name == "retrain":
            continue
        work = sum(units_of(RoundConfig.from_data(config)) for config, _ in measured)
        expected += sum(took for _, took in measured) / work * units_of(plan)
    estimate = round_estimate(plan=plan)
    assert estimate.total == pytest.approx(expected) and estimate.rounds_read == 2
    assert estimate.unmeasured == []  # retrain not asked for
    assert "retrain" in round_estimate(plan=RoundConfig(retrain=True)).unmeasured
    answer = client.get(
        "/discovery/estimate.json", {"budget": 500, "ensemble_size": 3, "eval_budget": 50, "baseline_size": 5}
    )
    assert answer.json()["seconds"] == pytest.approx(expected, abs=0.1)
    assert "from the stage times of the last 2 finished rounds" in answer.json()["text"]
    bad = client.get("/discovery/estimate.json", {"budget": "many"})
    assert bad.status_code == 400 and "not a whole number" in bad.json()["text"]


def test_the_launch_form_shows_the_estimate(admin_client, catalogue):
    html = admin_client.get("/discovery/").content.decode()
    assert 'id="round-estimate"' in html and 'data-estimate-url="/discovery/estimate.json"' in html
    assert "no estimate yet: no round has finished on this portal" in html


def test_benchmark_jobs_are_polled_until_they_finish(client, settings, tmp_path):
    from discovery.benchmark.store import benchmark_save

    settings.VAR_DIR = tmp_path
    benchmark_save("benchmark-queued", {"status": "queued", "command": "dashboard job", "options": {}})
    data = client.get(STATUS).json()
    assert data["unfinished"] is True and data["benchmark"]["status"] == "queued"
    assert data["benchmark"]["waiting"].startswith("Waiting: ")
    assert "no worker is running a task now" in data["benchmark"]["waiting"]
    html = client.get("/discovery/").content.decode()
    assert 'id="live-status"' in html and 'data-name="benchmark-queued"' in html
    benchmark_save(
        "benchmark-queued", {"status": "running", "stage": "round 2 of 3: evaluating", "options": {}}
    )
    running = client.get(STATUS).json()["benchmark"]
    assert (running["stage"], running["waiting"]) == ("round 2 of 3: evaluating", "")
    benchmark_save(
        "benchmark-queued", {"status": "failed", "error": "RuntimeError: no oracle", "options": {}}
    )
    data = client.get(STATUS).json()
    assert data["unfinished"] is False and data["benchmark"]["error"] == "RuntimeError: no oracle"


def test_a_queued_training_says_where_it_waits(admin_client, catalogue):
    client = admin_client
    from discovery.models import TrainingJob

    job = TrainingJob.objects.create(kind="structural", config_name="tiny", n_models=1, epochs=2, total=2)
    (row,) = client.get(STATUS).json()["training"]
    assert row["id"] == job.pk and row["status"] == "pending"
    assert (
        row["waiting"].startswith("Waiting: no task waits on queue 'heavy'")
        or "queue 'heavy'" in row["waiting"]
    )
    _heartbeat("discovery.train_models", [job.pk], worker="models@lab", minutes=3)
    (row,) = client.get(STATUS).json()["training"]
    assert row["waiting"] == "Running on models@lab, for 3 min."
    html = client.get("/discovery/").content.decode()
    assert f'data-training="{job.pk}"' in html and "Running on models@lab" in html


def test_retraining_not_yet_timed_is_estimated_from_the_training_rates(catalogue):
    from discovery.models import TrainedModel, TrainingJob
    from discovery.training import training_rate, training_samples_count

    _timed_round(
        1, CONFIG, dict.fromkeys(("generate", "filter", "evaluate", "ingest", "hull", "metrics"), 20.0)
    )
    model = TrainedModel.objects.create(
        name="demo", kind="structural", n_models=3, checkpoint_path="/x", is_active=True
    )
    TrainingJob.objects.create(
        kind="structural",
        config_name="tiny",
        n_models=3,
        epochs=4,
        total=12,
        done=12,
        status="succeeded",
        model=model,
    )
    plan = RoundConfig(retrain=True, retrain_epochs=7)
    estimate = round_estimate(plan=plan)
    rate = training_rate(
        config_name="tiny", kind="structural", samples=training_samples_count(hull_set="all")
    )
    assert estimate.seconds["retrain"] == pytest.approx(rate.fixed + rate.per_member_epoch * 3 * 7)
    assert estimate.from_training_rates == ["retrain"] and estimate.unmeasured == []
    assert "retrain from the measured training rates" in estimate.text()


def test_each_queue_shows_its_workers_and_what_they_run(client, admin_client, pending_round):
    """Workers record themselves with their queues; the dashboard lists each queue's live workers, what they
    run, and says where no worker takes a queue. A worker silent for PORTAL_TASK_LOST_AFTER is gone."""
    node_register(name="rounds@lab", queues=["rounds"], pid=11)
    node_register(name="heavy@gpu-box", queues=["heavy"], pid=12)
    node_register(name="everything@lab", queues=["interactive", "rounds", "heavy", "background"], pid=13)
    WorkerNode.objects.filter(name="everything@lab").update(beat_at=timezone.now() - dt.timedelta(minutes=5))
    _heartbeat("discovery.run_stage", [pending_round.pk, "generate", 1], worker="rounds@lab", minutes=3)

    queues = {q["kind"]: q for q in admin_client.get(STATUS).json()["queues"]}
    assert queues["rounds"]["workers"] == [
        {"name": "rounds@lab", "running": "the generate stage of round 1 (for 3 min)"}
    ]
    assert queues["rounds"]["workers_text"] == "rounds@lab: runs the generate stage of round 1 (for 3 min)"
    assert queues["heavy"]["workers_text"] == "heavy@gpu-box: idle"
    for kind in ("interactive", "background"):  # the only worker that took them stopped beating
        assert queues[kind]["workers"] == []
        assert queues[kind]["workers_text"].startswith("none: its tasks wait until a worker")
    # the public sees the same without host names
    public = {q["kind"]: q for q in client.get(STATUS).json()["queues"]}
    assert public["heavy"]["workers_text"] == "a worker: idle"
    assert "lab" not in str(public) and "gpu-box" not in str(public)

    html = admin_client.get("/discovery/").content.decode()
    section = html[html.index('id="queues"') :]
    assert '<tr id="queue-heavy" data-queue="heavy">' in section and "<code>heavy</code>" in section
    assert "heavy@gpu-box: idle" in section
