"""Rounds whose task lost its worker, resumed by the recovery sweep (``portal.recover_lost_work``).

The sweep first marks lost the heartbeats of dead workers' tasks (``portal.workers.recovery``); a round that
one of them was working on is resumed here once none of its tasks is still running elsewhere (a chunk of its
evaluation on another worker finishes first). Resuming starts a new dispatch of the round: its stages are
idempotent, so what the lost task had written is kept and nothing is added twice, and the earlier dispatch's
tasks (still queued, or the lost one delivered again by Redis) do nothing.
"""

import logging
from collections import defaultdict

from django.db import transaction

from discovery.models import Round
from discovery.services import RESUMABLE, round_resume
from portal.workers.models import TaskHeartbeat

logger = logging.getLogger(__name__)

# The tasks that drive a round; each takes the round's id first.
ROUND_TASKS = ("discovery.advance", "discovery.run_stage", "discovery.evaluate_chunk", "discovery.evaluated")


def _round_of(args) -> int | None:
    return args[0] if isinstance(args, list) and args and isinstance(args[0], int) else None


def rounds_recover() -> list[Round]:
    """Resume every open round that a lost task was working on and none of whose tasks still runs; forget the
    lost heartbeats of rounds resumed or finished. Returns the rounds resumed."""
    lost: dict[int, list[int]] = defaultdict(list)
    for pk, args in TaskHeartbeat.objects.filter(
        task_name__in=ROUND_TASKS, lost_at__isnull=False
    ).values_list("pk", "args"):
        if (round_id := _round_of(args)) is not None:
            lost[round_id].append(pk)
    resumed = []
    for round_id, heartbeats in sorted(lost.items()):
        with transaction.atomic():
            # locked: a task of this round that starts now waits, and then sees the new dispatch
            round = Round.objects.select_for_update().filter(pk=round_id).first()
            if round is not None and round.status in RESUMABLE:
                if _tasks_running(round_id):
                    continue
                round_resume(round=round)
                resumed.append(round)
                logger.warning(
                    "round %s resumed (dispatch %s): its task lost its worker", round.number, round.dispatch
                )
            TaskHeartbeat.objects.filter(pk__in=heartbeats, lost_at__isnull=False).delete()
    return resumed


def _tasks_running(round_id: int) -> bool:
    running = TaskHeartbeat.objects.filter(task_name__in=ROUND_TASKS, lost_at__isnull=True)
    return any(_round_of(args) == round_id for args in running.values_list("args", flat=True))
