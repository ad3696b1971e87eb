"""The recovery sweep resumes a round whose task lost its worker: once, only when none of its tasks still runs,
and tasks of the earlier dispatch then do nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from discovery import services
from discovery.models import Round
from discovery.services import round_cancel, round_create, round_resume
from discovery.tasks import evaluate_chunk_task, round_advance_task, round_evaluated_task, run_stage_task
from portal.workers.models import TaskHeartbeat
from portal.workers.recovery import lost_rounds_recover
from portal.workers.tasks import recover_lost_work_task

pytestmark = pytest.mark.django_db

CONFIG = {"elements": ["Li", "O"], "budget": 10, "eval_budget": 3}


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[int, int]]:
    """(round id, dispatch) of every enqueue, instead of sending to a broker."""
    sent = []
    monkeypatch.setattr(services, "round_enqueue", lambda r: sent.append((r.pk, r.dispatch)))
    return sent


def task_heartbeat(task_id: str, round: Round, *, age: float, lost: bool, name="discovery.evaluate_chunk"):
    now = timezone.now()
    return TaskHeartbeat.objects.create(
        task_id=task_id,
        task_name=name,
        args=[round.pk, [1, 2]],
        worker="w1@host",
        pid=4242,
        started_at=now - timedelta(seconds=age + 5),
        beat_at=now - timedelta(seconds=age),
        lost_at=now if lost else None,
    )


def test_a_round_whose_task_lost_its_worker_is_resumed_once(enqueued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        round = round_create(config=CONFIG)
    assert enqueued == [(round.pk, 1)]
    Round.objects.filter(pk=round.pk).update(status=Round.Status.RUNNING)
    task_heartbeat("lost-chunk", round, age=120, lost=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert lost_rounds_recover() == [round]
    assert enqueued == [(round.pk, 1), (round.pk, 2)]
    assert Round.objects.get(pk=round.pk).dispatch == 2
    assert not TaskHeartbeat.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert lost_rounds_recover() == []  # nothing lost is left: no second dispatch
    assert len(enqueued) == 2


def test_a_round_with_a_task_still_running_waits_for_it(enqueued, django_capture_on_commit_callbacks):
    round = round_create(config=CONFIG, enqueue=False)
    other = round_create(config=CONFIG, enqueue=False)
    Round.objects.filter(pk__in=[round.pk, other.pk]).update(status=Round.Status.RUNNING)
    task_heartbeat("lost-chunk", round, age=120, lost=True)
    task_heartbeat("live-chunk", round, age=1, lost=False)
    task_heartbeat("other-round", other, age=1, lost=False)

    with django_capture_on_commit_callbacks(execute=True):
        assert lost_rounds_recover() == []
    assert enqueued == [] and TaskHeartbeat.objects.filter(task_id="lost-chunk").exists()
    TaskHeartbeat.objects.filter(task_id="live-chunk").delete()  # the other chunk ended
    with django_capture_on_commit_callbacks(execute=True):
        assert lost_rounds_recover() == [round]
    assert enqueued == [(round.pk, 1)]


def test_finished_rounds_are_not_resumed(enqueued, django_capture_on_commit_callbacks):
    round = round_create(config=CONFIG, enqueue=False)
    round_cancel(round=round)
    task_heartbeat("lost-stage", round, age=120, lost=True, name="discovery.run_stage")
    with django_capture_on_commit_callbacks(execute=True):
        assert lost_rounds_recover() == []
    assert enqueued == [] and not TaskHeartbeat.objects.exists()


def test_the_sweep_task_marks_lost_then_resumes(enqueued, settings, django_capture_on_commit_callbacks):
    settings.PORTAL_TASK_LOST_AFTER = 60
    round = round_create(config=CONFIG, enqueue=False)
    Round.objects.filter(pk=round.pk).update(status=Round.Status.RUNNING)
    task_heartbeat("silent-stage", round, age=61, lost=False, name="discovery.run_stage")
    with django_capture_on_commit_callbacks(execute=True):
        report = recover_lost_work_task.run()
    assert report == {
        "lost": ["silent-stage"],
        "failed_results": [],
        "rounds_resumed": [round.number],
        "workers_gone": [],
    }
    assert enqueued == [(round.pk, 1)]


def test_tasks_of_an_earlier_dispatch_do_nothing(enqueued, monkeypatch, django_capture_on_commit_callbacks):
    round = round_create(config=CONFIG, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        round_resume(round=round)
        round_resume(round=round)  # pressed twice, or the sweep after a press: the latest dispatch drives
    assert Round.objects.get(pk=round.pk).dispatch == 2
    sent = []
    monkeypatch.setattr(run_stage_task, "apply_async", lambda *a, **k: sent.append((a, k)))
    assert round_advance_task.run(round.pk, dispatch=1) == "superseded"
    assert run_stage_task.run(round.pk, "generate", dispatch=1) == "superseded"
    assert evaluate_chunk_task.run(round.pk, [1], dispatch=1) == 0
    assert round_evaluated_task.run(round.pk, dispatch=1) == "superseded"
    assert sent == [] and not round.candidates.exists()
    assert round_advance_task.run(round.pk, dispatch=2) == "generate"
    assert sent == [(((round.pk, "generate"), {"dispatch": 2}), {})]  # the router picks its queue
