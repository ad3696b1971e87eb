"""Hull: what the round's entries changed on the hull of its hull set: new stable entries, and entries pushed
off the hull."""

from discovery.models import Round, RoundStage
from discovery.stages.bookkeeping import stage_finish, stage_start
from hull.models import Stability

PUSHED_OFF_LISTED = 200  # ids of entries pushed off the hull kept in the metrics


def run(round: Round) -> RoundStage:
    """Compare the stable entries before the round's entries joined (kept in its state by the ingest stage)
    with the hull now."""
    stage = stage_start(round, RoundStage.Name.HULL)
    round.refresh_from_db()
    before = set((round.state or {}).get("stable_before", []))
    after = set(
        Stability.objects.filter(
            hull_set=round.hull_set, is_stable=True, entry_id__in=sorted(before)
        ).values_list("entry_id", flat=True)
    )
    new_stable = (
        Stability.objects.filter(
            hull_set=round.hull_set, is_stable=True, entry__batch_id=round.batch_id
        ).count()
        if round.batch_id
        else 0
    )
    pushed_off = sorted(before - after)
    metrics = {
        **(round.metrics or {}),
        "new_stable": new_stable,
        "pushed_off_hull": len(pushed_off),
        "pushed_off_ids": pushed_off[:PUSHED_OFF_LISTED],
    }
    Round.objects.filter(pk=round.pk).update(metrics=metrics)
    stage_finish(stage, f"{new_stable} new stable entries, {len(pushed_off)} pushed off the hull")
    return stage
