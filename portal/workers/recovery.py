"""The recovery sweep's services: tasks whose worker died found from their heartbeats, their results failed.

A task lost its worker when its heartbeat is older than ``PORTAL_TASK_LOST_AFTER`` (the process that ran it
stopped beating: killed, out of memory, its machine gone). Its row is kept, marked lost, so that the owner of
the work (``discovery.recovery`` for rounds) can resume it once nothing else of that work still runs; the
rows left are forgotten after a day.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from billiard.exceptions import WorkerLostError
from celery import states
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_celery_results.models import TaskResult

from portal.workers.models import TaskHeartbeat

logger = logging.getLogger(__name__)

KEEP_LOST = timedelta(days=1)


@dataclass
class TaskRecovery:
    """What one sweep found: the heartbeats it marked lost and the results it failed."""

    lost: list[TaskHeartbeat] = field(default_factory=list)
    failed_results: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"lost": [row.task_id for row in self.lost], "failed_results": self.failed_results}


def lost_cutoff(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.PORTAL_TASK_LOST_AFTER)


def heartbeats_mark_lost(*, now: datetime | None = None) -> list[TaskHeartbeat]:
    """Mark lost the heartbeats not moved for ``PORTAL_TASK_LOST_AFTER`` seconds; returns those newly marked."""
    now = now or timezone.now()
    stale = Q(lost_at__isnull=True, beat_at__lt=lost_cutoff(now))
    ids = list(TaskHeartbeat.objects.filter(stale).values_list("pk", flat=True))
    # the same condition again: a beat written in between keeps its task alive
    TaskHeartbeat.objects.filter(stale, pk__in=ids).update(lost_at=now)
    lost = list(TaskHeartbeat.objects.filter(pk__in=ids, lost_at=now).order_by("pk"))
    for row in lost:
        logger.warning(
            "task %s[%s] lost its worker %s (pid %s): no heartbeat since %s",
            row.task_name,
            row.task_id,
            row.worker,
            row.pid,
            row.beat_at.isoformat(timespec="seconds"),
        )
    return lost


def results_fail_lost(*, now: datetime | None = None) -> list[str]:
    """Move to FAILURE (``WorkerLostError``) the STARTED results that no live heartbeat vouches for and that
    started ``PORTAL_TASK_LOST_AFTER`` seconds ago or more: their worker died (or ran code from before the
    heartbeats). Returns their task ids. A task that the broker delivers again overwrites its result."""
    from portal.celery import app

    now = now or timezone.now()
    live = TaskHeartbeat.objects.filter(lost_at__isnull=True).values("task_id")
    orphans = list(
        TaskResult.objects.filter(status=states.STARTED, date_done__lt=lost_cutoff(now))
        .exclude(task_id__in=live)
        .values_list("task_id", "task_name", "worker")
    )
    beats = {
        row.task_id: row
        for row in TaskHeartbeat.objects.filter(task_id__in=[task_id for task_id, *_ in orphans])
    }
    backend = app.backend
    failed = []
    for task_id, task_name, worker in orphans:
        message = worker_lost_message(task_name=task_name, worker=worker, heartbeat=beats.get(task_id))
        content_type, encoding, result = backend.encode_content(
            backend.prepare_exception(WorkerLostError(message))
        )
        updated = TaskResult.objects.filter(task_id=task_id, status=states.STARTED).update(
            status=states.FAILURE,
            result=result,
            content_type=content_type,
            content_encoding=encoding,
            traceback=f"billiard.exceptions.WorkerLostError: {message}",
            date_done=now,
        )
        if updated:
            failed.append(task_id)
            logger.warning("task %s[%s] failed: %s", task_name, task_id, message)
    return failed


def worker_lost_message(*, task_name: str | None, worker: str | None, heartbeat: TaskHeartbeat | None) -> str:
    where = f"{worker or 'its worker'}"
    if heartbeat is not None:
        where += f" (pid {heartbeat.pid}, last heartbeat {heartbeat.beat_at.isoformat(timespec='seconds')})"
    return (
        f"the worker {where} running {task_name or 'this task'} stopped before it finished; "
        "marked failed by the recovery sweep (the broker may deliver it again, and an interrupted "
        "discovery round is resumed)"
    )


def lost_rounds_recover() -> list:
    """Resume the discovery rounds that lost tasks were driving (``discovery.recovery``), once none of their tasks
    still runs; the lost heartbeats of a round are forgotten when it is resumed or finished."""
    from discovery.recovery import round_of_task, rounds_recover

    lost: dict[int, list[int]] = {}
    for pk, task_name, args in TaskHeartbeat.objects.filter(lost_at__isnull=False).values_list(
        "pk", "task_name", "args"
    ):
        if (round_id := round_of_task(task_name, args)) is not None:
            lost.setdefault(round_id, []).append(pk)

    def still_running(round_id: int) -> bool:
        live = TaskHeartbeat.objects.filter(lost_at__isnull=True).values_list("task_name", "args")
        return any(round_of_task(name, args) == round_id for name, args in live)

    def settled(round_id: int) -> None:
        TaskHeartbeat.objects.filter(pk__in=lost[round_id], lost_at__isnull=False).delete()

    return rounds_recover(lost_rounds=lost, still_running=still_running, settled=settled)


def tasks_recover(*, now: datetime | None = None) -> TaskRecovery:
    """One sweep over the tasks: mark lost heartbeats, fail the results of dead workers' tasks, forget lost
    heartbeats older than a day."""
    now = now or timezone.now()
    recovery = TaskRecovery(lost=heartbeats_mark_lost(now=now), failed_results=results_fail_lost(now=now))
    TaskHeartbeat.objects.filter(lost_at__lt=now - KEEP_LOST).delete()
    return recovery
