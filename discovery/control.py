"""Cancel, retry and resume rounds by hand: which of them applies to a round, who may, and what it answers.

The admin's bulk actions and the dashboard's buttons both act through :func:`round_act`; the state
transitions themselves are the services' (:mod:`discovery.services`)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied

from discovery.models import Round
from discovery.permissions import round_launch_allowed
from discovery.services import CANCELLABLE, RESUMABLE, RETRYABLE, round_cancel, round_resume, round_retry
from hull.errors import CatalogueError


@dataclass(frozen=True)
class RoundAction:
    """One thing staff may do to a round."""

    name: str
    label: str  # the button
    done: str  # "Round 3 {done}."
    help: str  # what it does, beside the button
    states: tuple[str, ...]  # the statuses it applies to
    service: Callable[..., Round]
    needs_idle: bool = False  # only when no task of the round runs on a worker or waits in its queue
    confirm: str = ""  # asked before the button acts ("" : no question): for what cannot be undone


ROUND_ACTIONS = {
    action.name: action
    for action in (
        RoundAction(
            "cancel",
            "Cancel",
            "cancelled",
            "stop the round; the stage that runs now stops at its next checkpoint",
            CANCELLABLE,
            round_cancel,
            confirm="Cancel this round? The stage that runs now stops at its next checkpoint. Finished stages are "
            "kept, and Retry can run the round again from its first unfinished stage.",
        ),
        RoundAction(
            "retry",
            "Retry",
            "put back in the queue",
            "run the round again from its first unfinished stage; finished stages are kept",
            RETRYABLE,
            round_retry,
        ),
        RoundAction(
            "resume",
            "Resume",
            "resumed",
            "enqueue the round's next stage again (after its worker died); work already done is kept",
            RESUMABLE,
            round_resume,
            needs_idle=True,
        ),
    )
}


def round_actions(*, round: Round, busy: bool = False) -> list[RoundAction]:
    """The actions that apply to ``round`` in its status; ``busy``: its work is in hand (a task of it runs on a
    worker, or waits in its queue), so resuming it would only start a second copy."""
    return [a for a in ROUND_ACTIONS.values() if round.status in a.states and not (a.needs_idle and busy)]


def round_act(*, round: Round, action: str, user) -> str:
    """Do ``action`` to ``round`` for ``user``; returns the message to show. Raises ``PermissionDenied`` for a
    user without the launch permission and :class:`CatalogueError` (saying why) where the action does not apply."""
    if not round_launch_allowed(user):
        raise PermissionDenied(
            "cancelling, retrying or resuming rounds needs the discovery.launch_round permission"
        )
    chosen = ROUND_ACTIONS.get(action)
    if chosen is None:
        raise CatalogueError(f"unknown action {action!r}: choose one of {', '.join(ROUND_ACTIONS)}")
    chosen.service(round=round)
    return f"Round {round.number} {chosen.done}."
