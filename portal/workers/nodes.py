"""The workers running now and the queues each takes, as they record themselves (:class:`WorkerNode`): a worker
registers when it is ready, the heartbeat thread of its main process moves its ``beat_at``
(``portal.workers.heartbeat``), and it deletes its row when it stops. One whose row stopped moving for
``PORTAL_TASK_LOST_AFTER`` seconds died; the recovery sweep forgets it."""

from datetime import datetime

from django.utils import timezone

from portal.workers.models import WorkerNode
from portal.workers.recovery import lost_cutoff


def node_register(*, name: str, queues: list[str], pid: int) -> None:
    """Record worker ``name`` (its main process ``pid``) as running and taking ``queues``."""
    now = timezone.now()
    WorkerNode.objects.update_or_create(
        name=name, defaults={"queues": sorted(queues), "pid": pid, "started_at": now, "beat_at": now}
    )


def node_beat(*, name: str, pid: int) -> bool:
    """Move the sign of life of worker ``name``; False when its row is gone (forgotten while it was silent)."""
    return bool(WorkerNode.objects.filter(name=name, pid=pid).update(beat_at=timezone.now()))


def node_forget(*, name: str, pid: int) -> None:
    """Worker ``name`` stops."""
    WorkerNode.objects.filter(name=name, pid=pid).delete()


def nodes_forget_stale(*, now: datetime | None = None) -> list[str]:
    """Forget the workers whose sign of life is older than ``PORTAL_TASK_LOST_AFTER``; their names."""
    stale = WorkerNode.objects.filter(beat_at__lt=lost_cutoff(now or timezone.now()))
    names = sorted(stale.values_list("name", flat=True))
    stale.delete()
    return names


def nodes_live(*, now: datetime | None = None) -> list[WorkerNode]:
    """The workers alive now (a sign of life within ``PORTAL_TASK_LOST_AFTER``), by name."""
    return list(WorkerNode.objects.filter(beat_at__gte=lost_cutoff(now or timezone.now())).order_by("name"))
