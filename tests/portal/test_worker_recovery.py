"""Workers that recover: heartbeats of running tasks, the sweep that fails the results of dead workers' tasks,
and live workers keeping their Redis messages from being redelivered."""

import time
import uuid
from datetime import timedelta

import pytest
from billiard.exceptions import WorkerLostError
from celery import states
from celery.result import AsyncResult
from django.utils import timezone
from django_celery_results.models import TaskResult
from kombu import Connection, Exchange, Queue

from portal.celery import app
from portal.workers.heartbeat import Heartbeat, messages_keep_visible
from portal.workers.models import TaskHeartbeat
from portal.workers.recovery import heartbeats_mark_lost, results_fail_lost, tasks_recover
from tests.celery_workers import REDIS_URL, require_redis

pytestmark = pytest.mark.django_db


def started(task_id: str, *, age: float, name: str = "hull.rebuild", worker: str = "w1@host") -> TaskResult:
    """A STARTED result stored ``age`` seconds ago, as the worker writes it when the task begins."""
    row = TaskResult.objects.create(task_id=task_id, task_name=name, status=states.STARTED, worker=worker)
    TaskResult.objects.filter(pk=row.pk).update(date_done=timezone.now() - timedelta(seconds=age))
    return row


def heartbeat(
    task_id: str, *, age: float, name: str = "hull.rebuild", args=(), pid: int = 4242
) -> TaskHeartbeat:
    now = timezone.now()
    return TaskHeartbeat.objects.create(
        task_id=task_id,
        task_name=name,
        args=list(args),
        worker="w1@host",
        pid=pid,
        started_at=now - timedelta(seconds=age + 5),
        beat_at=now - timedelta(seconds=age),
    )


def test_a_process_beats_for_its_running_tasks_until_they_end(settings):
    beat = Heartbeat()
    beat.task_started(task_id="t-1", task_name="hull.rebuild", args=(3, [1, 2]), worker="w1@host")
    row = TaskHeartbeat.objects.get(task_id="t-1")
    assert (row.task_name, row.args, row.worker, row.lost_at) == (
        "hull.rebuild",
        [3, [1, 2]],
        "w1@host",
        None,
    )
    TaskHeartbeat.objects.filter(pk=row.pk).update(
        beat_at=row.beat_at - timedelta(minutes=5), lost_at=row.beat_at
    )
    beat.beat()  # a beat revives a row the sweep took for lost: the task is alive after all
    row.refresh_from_db()
    assert row.lost_at is None and timezone.now() - row.beat_at < timedelta(seconds=5)
    beat.task_ended(task_id="t-1")
    assert not TaskHeartbeat.objects.exists()


def test_a_row_the_database_refused_at_the_start_is_written_by_the_next_beat(monkeypatch):
    """On the embedded default a worker's first write may meet SQLite locked by another worker for longer than its
    timeout: the task runs on, and the next beat writes its row, so the dashboard does not call it waiting."""
    from django.db import OperationalError
    from django.db.models import QuerySet

    real = QuerySet.update_or_create

    def locked(self, *args, **kwargs):
        raise OperationalError("database is locked")

    beat = Heartbeat()
    monkeypatch.setattr(QuerySet, "update_or_create", locked)
    beat.task_started(task_id="t-2", task_name="discovery.train_models", args=(7,), worker="models@host")
    assert not TaskHeartbeat.objects.exists()
    monkeypatch.setattr(QuerySet, "update_or_create", real)
    beat.beat()
    row = TaskHeartbeat.objects.get(task_id="t-2")
    assert (row.task_name, row.args, row.worker, row.lost_at) == (
        "discovery.train_models",
        [7],
        "models@host",
        None,
    )
    beat.task_ended(task_id="t-2")
    TaskHeartbeat.objects.create(  # a row the sweep deleted is not brought back by later beats
        task_id="t-3",
        task_name="hull.rebuild",
        args=[],
        worker="w1@host",
        pid=1,
        started_at=timezone.now(),
        beat_at=timezone.now(),
    )
    beat.task_started(task_id="t-3", task_name="hull.rebuild", args=(), worker="w1@host")
    TaskHeartbeat.objects.filter(task_id="t-3").delete()
    beat.beat()
    assert not TaskHeartbeat.objects.exists()


def test_heartbeats_older_than_the_limit_are_marked_lost_once(settings):
    settings.PORTAL_TASK_LOST_AFTER = 60
    heartbeat("dead", age=61)
    heartbeat("alive", age=50)
    lost = heartbeats_mark_lost()
    assert [row.task_id for row in lost] == ["dead"]
    assert heartbeats_mark_lost() == []  # already marked
    assert TaskHeartbeat.objects.get(task_id="alive").lost_at is None


def test_started_results_of_dead_workers_move_to_failure(settings):
    settings.PORTAL_TASK_LOST_AFTER = 60
    started("dead-worker", age=300)
    heartbeat("dead-worker", age=120)
    started("alive", age=300)
    heartbeat("alive", age=5)
    started("just-started", age=10)  # its heartbeat row may not be visible yet: too recent to judge
    started("no-heartbeat", age=300)  # its worker died before the heartbeat row was written, or ran old code
    TaskResult.objects.create(task_id="done", task_name="hull.rebuild", status=states.SUCCESS)
    TaskResult.objects.filter(task_id="done").update(date_done=timezone.now() - timedelta(hours=1))

    recovery = tasks_recover()
    assert [row.task_id for row in recovery.lost] == ["dead-worker"]
    assert sorted(recovery.failed_results) == ["dead-worker", "no-heartbeat"]
    status = dict(TaskResult.objects.values_list("task_id", "status"))
    assert status == {
        "dead-worker": states.FAILURE,
        "alive": states.STARTED,
        "just-started": states.STARTED,
        "no-heartbeat": states.FAILURE,
        "done": states.SUCCESS,
    }
    # stored as Celery stores a failure: the result is the exception, with a clear message
    result = AsyncResult("dead-worker", app=app)
    assert result.state == states.FAILURE
    assert isinstance(result.result, WorkerLostError)
    assert "w1@host (pid 4242, last heartbeat" in str(result.result)
    assert "stopped before it finished" in str(result.result)
    assert "WorkerLostError" in TaskResult.objects.get(task_id="no-heartbeat").traceback
    assert results_fail_lost() == []  # nothing STARTED is left to judge


def test_a_task_delivered_again_overwrites_the_failure(settings):
    settings.PORTAL_TASK_LOST_AFTER = 60
    started("redelivered", age=300)
    heartbeat("redelivered", age=120)
    tasks_recover()
    app.backend.store_result("redelivered", {"ok": True}, states.SUCCESS)
    assert AsyncResult("redelivered", app=app).result == {"ok": True}


def test_lost_heartbeats_are_forgotten_after_a_day():
    heartbeat("old", age=3 * 86400)
    TaskHeartbeat.objects.filter(task_id="old").update(lost_at=timezone.now() - timedelta(days=2))
    heartbeat("recent", age=600)
    tasks_recover()
    assert list(TaskHeartbeat.objects.values_list("task_id", flat=True)) == ["recent"]


@pytest.mark.celery_worker
def test_a_live_worker_keeps_its_redis_messages_from_redelivery():
    """kombu restores an unacknowledged message to its queue once it is older than the visibility timeout;
    the heartbeat moves the messages a live worker holds, so only a dead worker's are restored."""
    require_redis()
    queue = Queue(f"visibility-{uuid.uuid4().hex[:8]}", Exchange("visibility-test", type="direct"), "vt")
    with Connection(REDIS_URL, transport_options={"visibility_timeout": 1}) as connection:
        channel = connection.channel()
        try:
            producer = connection.Producer(channel)
            producer.publish({"n": 1}, exchange=queue.exchange, routing_key="vt", declare=[queue])
            message = queue(channel).get(no_ack=False)
            assert message is not None
            tag = message.delivery_tag

            def restore() -> None:
                channel.qos.restore_visible(num=100, interval=1)

            for _ in range(6):  # 3 s, three visibility timeouts
                time.sleep(0.5)
                assert messages_keep_visible(channel=channel, delivery_tags=[tag]) == 1
                restore()
                assert queue(channel).get(no_ack=True) is None, "a held message was delivered again"
            time.sleep(1.5)  # the holder stops beating (it died)
            restore()
            again = queue(channel).get(no_ack=True)
            assert again is not None and again.payload == {"n": 1}
            assert messages_keep_visible(channel=channel, delivery_tags=[tag]) == 0  # restored: not re-added
        finally:
            queue(channel).delete()
            channel.close()
