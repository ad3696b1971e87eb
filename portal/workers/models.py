"""The sign of life of each running Celery task."""

from django.db import models


class TaskHeartbeat(models.Model):
    """A task that a worker process runs: written when it starts, its ``beat_at`` moved every
    ``PORTAL_TASK_HEARTBEAT_SECONDS`` by a thread of that process, deleted when it ends. A row whose beat is
    older than ``PORTAL_TASK_LOST_AFTER`` belongs to a dead worker; the recovery sweep sets ``lost_at``."""

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=255, db_index=True)
    args = models.JSONField(default=list, blank=True, help_text="the task's positional arguments")
    worker = models.CharField(max_length=255, help_text="the worker's node name (celery@host)")
    pid = models.PositiveIntegerField(help_text="the process that runs the task")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    lost_at = models.DateTimeField(null=True, blank=True, help_text="when the sweep found the worker gone")

    def __str__(self) -> str:
        state = (
            f"lost at {self.lost_at:%Y-%m-%d %H:%M:%S}" if self.lost_at else f"beat {self.beat_at:%H:%M:%S}"
        )
        return f"{self.task_name}[{self.task_id}] on {self.worker} pid {self.pid}: {state}"


class WorkerNode(models.Model):
    """A running Celery worker and the queues it takes: written when it is ready, its ``beat_at`` moved with the
    heartbeats of its main process, deleted when it stops. A row not moved for ``PORTAL_TASK_LOST_AFTER`` seconds
    is a worker that died (the recovery sweep forgets it)."""

    name = models.CharField(max_length=255, unique=True, help_text="the worker's node name (rounds@host)")
    queues = models.JSONField(default=list, help_text="the queues it consumes")
    pid = models.PositiveIntegerField(help_text="its main process")
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({', '.join(self.queues)}): beat {self.beat_at:%H:%M:%S}"
