"""Rounds whose task lost its worker, resumed by the recovery sweep (``portal.recover_lost_work``).

The sweep (in ``portal.workers``, which keeps the task heartbeats) first marks lost the heartbeats of dead
workers' tasks; it names here the rounds those tasks were driving, and a round is resumed once none of its tasks
is still running elsewhere (a chunk of its evaluation on another worker finishes first). Resuming starts a new
dispatch of the round: its stages are idempotent, so what the lost task had written is kept and nothing is added
twice, and the earlier dispatch's tasks (still queued, or the lost one delivered again by Redis) do nothing.

Discovery knows nothing of how heartbeats are kept: the sweep passes what it found, and two callbacks.
"""

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

from discovery.models import Round
from discovery.services import RESUMABLE, round_resume

logger = logging.getLogger(__name__)

# The tasks that drive a round; each takes the round's id first.
ROUND_TASKS = ("discovery.advance", "discovery.run_stage", "discovery.evaluate_chunk", "discovery.evaluated")


def round_of_task(task_name: str, args: object) -> int | None:
    """The round a task drives, from its name and arguments; None for a task that drives no round."""
    if task_name not in ROUND_TASKS:
        return None
    return args[0] if isinstance(args, list) and args and isinstance(args[0], int) else None


def rounds_recover(
    *,
    lost_rounds: Iterable[int],
    still_running: Callable[[int], bool],
    settled: Callable[[int], None],
) -> list[Round]:
    """Resume every open round of ``lost_rounds`` (rounds a lost task was driving) for which ``still_running``
    finds no live task. ``settled`` is called, in the same transaction, for each round resumed or no longer open,
    so that its lost tasks are forgotten exactly when the round was dealt with. Returns the rounds resumed."""
    resumed = []
    for round_id in sorted(set(lost_rounds)):
        with transaction.atomic():
            # locked: a task of this round that starts now waits, and then sees the new dispatch
            round = Round.objects.select_for_update().filter(pk=round_id).first()
            if round is not None and round.status in RESUMABLE:
                if still_running(round_id):
                    continue
                round_resume(round=round)
                resumed.append(round)
                logger.warning(
                    "round %s resumed (dispatch %s): its task lost its worker", round.number, round.dispatch
                )
            settled(round_id)
    return resumed
