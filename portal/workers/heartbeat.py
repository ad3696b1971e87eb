"""Heartbeats of running tasks, written by a thread of every worker process.

A task's row (:class:`~portal.workers.models.TaskHeartbeat`) is written when it starts (``task_prerun``, in the
process that runs it: the worker itself with the solo pool, a pool child with prefork) and deleted when it ends
(``task_postrun``). Meanwhile a daemon thread of that process moves its ``beat_at`` every
``PORTAL_TASK_HEARTBEAT_SECONDS``: the thread runs while the task computes (CHGNet and JAX release the GIL, and
pure Python yields it every few milliseconds), so a long healthy task keeps beating and only a dead process
stops. On Redis the thread of the worker's main process (the one that holds the messages) also moves the
messages it holds to "just delivered" in kombu's index of unacknowledged messages, so that Redis redelivers a
message only after its worker stopped for a whole visibility timeout, however long its task runs. The same
thread moves the worker's own sign of life (``portal.workers.nodes``: the queues it takes, for the dashboard).
"""

import contextlib
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from celery import signals
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunningTask:
    """What the heartbeat row of a task this process runs holds."""

    task_name: str
    args: list
    worker: str
    started_at: datetime


def task_row_write(*, task_id: str, task: RunningTask) -> None:
    """Write the heartbeat row of a running task: when it starts, and again at a beat where the row is missing
    (its first write met a locked or unreachable database)."""
    from portal.workers.models import TaskHeartbeat

    now = timezone.now()
    TaskHeartbeat.objects.update_or_create(
        task_id=task_id,
        defaults={
            "task_name": task.task_name,
            "args": task.args,
            "worker": task.worker,
            "pid": os.getpid(),
            "started_at": task.started_at,
            "beat_at": now,
            "lost_at": None,
        },
    )


class Heartbeat:
    """The heartbeat of one process: the tasks it runs and the thread that beats for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._tasks: dict[str, RunningTask] = {}  # task id -> what its row holds
        self._unwritten: set[str] = set()  # tasks whose row could not be written when they started
        self._thread: threading.Thread | None = None
        self._holds_messages = False
        self._node: tuple[str, list[str]] | None = None  # the worker's node name and queues (main process)
        self._broker = None  # kombu connection to Redis, opened by the thread
        self._failing = False

    def _this_process(self) -> None:
        if self._pid != os.getpid():  # a forked pool child: nothing of the parent's applies
            self._reset()

    def start(self, *, holds_messages: bool = False, node: tuple[str, list[str]] | None = None) -> None:
        """Start beating in this process (once); ``holds_messages`` and ``node`` (its name and queues, registered
        here) in the worker's main process."""
        if node is not None:
            self._register(node)
        with self._lock:
            self._this_process()
            self._holds_messages = self._holds_messages or holds_messages
            self._node = node or self._node
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="task-heartbeat", daemon=True)
                self._thread.start()

    def task_started(self, *, task_id: str, task_name: str, args, worker: str) -> None:
        task = RunningTask(
            task_name=task_name, args=list(args or ()), worker=worker, started_at=timezone.now()
        )
        with self._lock:
            self._this_process()
            self._tasks[task_id] = task
        try:
            task_row_write(task_id=task_id, task=task)
        except Exception:  # the task itself still runs; the next beat writes its row
            with self._lock:
                self._unwritten.add(task_id)
            logger.exception(
                "could not write the heartbeat of task %s[%s]; the next beat tries again", task_name, task_id
            )

    def task_ended(self, *, task_id: str) -> None:
        from portal.workers.models import TaskHeartbeat

        with self._lock:
            self._this_process()
            task = self._tasks.pop(task_id, None)
            self._unwritten.discard(task_id)
        if task is None:
            return
        try:
            TaskHeartbeat.objects.filter(task_id=task_id, worker=task.worker, pid=os.getpid()).delete()
        except Exception:
            logger.exception("could not delete the heartbeat of task %s", task_id)

    def beat(self) -> None:
        """Move the heartbeat of this process's tasks, and on Redis keep its messages invisible to others."""
        from portal.workers.models import TaskHeartbeat
        from portal.workers.nodes import node_beat

        with self._lock:
            tasks = dict(self._tasks)
            unwritten = set(self._unwritten)
            holds_messages = self._holds_messages
            node = self._node
        try:
            if node is not None and not node_beat(name=node[0], pid=os.getpid()):
                self._register(node)  # forgotten while the database could not be reached
            if tasks:
                for task_id in sorted(unwritten & set(tasks)):
                    task_row_write(task_id=task_id, task=tasks[task_id])
                    with self._lock:
                        self._unwritten.discard(task_id)
                TaskHeartbeat.objects.filter(
                    task_id__in=sorted(tasks), worker__in={t.worker for t in tasks.values()}, pid=os.getpid()
                ).update(beat_at=timezone.now(), lost_at=None)
            if holds_messages:
                self._keep_messages_visible()
            if self._failing:
                logger.info("task heartbeats are written again")
            self._failing = False
        except Exception:
            if not self._failing:  # once per outage, not every beat
                logger.exception("could not write task heartbeats; retrying every beat")
            self._failing = True
            if self._broker is not None:
                with contextlib.suppress(Exception):
                    self._broker.release()
                self._broker = None

    def _register(self, node: tuple[str, list[str]]) -> None:
        from portal.workers.nodes import node_register

        try:
            node_register(name=node[0], queues=node[1], pid=os.getpid())
        except Exception:  # the worker runs all the same; the next beat tries again
            logger.exception("could not record worker %s", node[0])

    def stop_node(self) -> None:
        """The worker stops: its row goes (its tasks' rows go as they end)."""
        from portal.workers.nodes import node_forget

        with self._lock:
            node, self._node = self._node, None
        if node is not None:
            try:
                node_forget(name=node[0], pid=os.getpid())
            except Exception:
                logger.exception("could not forget worker %s", node[0])

    def _keep_messages_visible(self) -> None:
        from celery.worker import state

        from portal.celery import app

        if not app.conf.broker_url.startswith(("redis://", "rediss://")):
            return
        tags = [
            request.message.delivery_tag
            for request in state.requests.copy().values()
            if getattr(request, "message", None) is not None
        ]
        if not tags:
            return
        if self._broker is None:
            self._broker = app.connection_for_write()
        channel = self._broker.default_channel
        messages_keep_visible(channel=channel, delivery_tags=tags)

    def _run(self) -> None:
        interval = settings.PORTAL_TASK_HEARTBEAT_SECONDS
        while True:
            time.sleep(interval)
            close_old_connections()  # this thread's own connection: reopened when broken or too old
            self.beat()


def messages_keep_visible(*, channel, delivery_tags: list[str]) -> int:
    """Mark the given unacknowledged messages of a kombu Redis ``channel`` as delivered now, so that no worker
    restores them to their queues for another visibility timeout; returns how many were still unacknowledged
    (``XX``: an acknowledged or restored message is not added back)."""
    with channel.conn_or_acquire() as client:
        return client.zadd(
            channel.unacked_index_key, dict.fromkeys(delivery_tags, time.time()), xx=True, ch=True
        )


HEARTBEAT = Heartbeat()


def _on_worker_ready(sender=None, **kwargs) -> None:
    node = None
    if sender is not None and getattr(sender, "hostname", None):
        node = (sender.hostname, list(sender.app.amqp.queues.consume_from))
    HEARTBEAT.start(holds_messages=True, node=node)


def _on_worker_shutdown(sender=None, **kwargs) -> None:
    HEARTBEAT.stop_node()


def _on_task_prerun(sender=None, task_id=None, task=None, args=None, **kwargs) -> None:
    if task is None or task.request.is_eager:
        return
    HEARTBEAT.task_started(
        task_id=task_id, task_name=task.name, args=args, worker=task.request.hostname or ""
    )
    HEARTBEAT.start()


def _on_task_postrun(sender=None, task_id=None, task=None, **kwargs) -> None:
    if task is None or task.request.is_eager:
        return
    HEARTBEAT.task_ended(task_id=task_id)


def connect_signals() -> None:
    signals.worker_ready.connect(_on_worker_ready, weak=False, dispatch_uid="portal.workers.ready")
    signals.worker_shutdown.connect(_on_worker_shutdown, weak=False, dispatch_uid="portal.workers.shutdown")
    signals.task_prerun.connect(_on_task_prerun, weak=False, dispatch_uid="portal.workers.prerun")
    signals.task_postrun.connect(_on_task_postrun, weak=False, dispatch_uid="portal.workers.postrun")
