"""The recovery sweep, sent by beat every ``PORTAL_RECOVERY_SWEEP_SECONDS`` (``CELERY_BEAT_SCHEDULE``)."""

from celery import shared_task


@shared_task(name="portal.recover_lost_work", ignore_result=True)
def recover_lost_work_task() -> dict:
    """Fail the results of tasks whose worker died, resume the discovery rounds they were driving and forget the
    workers that stopped giving signs of life."""
    from portal.workers.nodes import nodes_forget_stale
    from portal.workers.recovery import lost_rounds_recover, tasks_recover

    recovery = tasks_recover()
    resumed = lost_rounds_recover()
    return {
        **recovery.as_dict(),
        "rounds_resumed": [round.number for round in resumed],
        "workers_gone": nodes_forget_stale(),
    }
