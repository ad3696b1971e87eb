"""Metrics: the round's hit rates, judged against the hull as it stood when the round began; the last stage."""

import statistics

from pymatgen.core import Composition

from discovery.config import RoundConfig
from discovery.metrics import HIT_TOLERANCE, Outcome, arm_metrics
from discovery.models import Candidate, Round, RoundStage
from discovery.stages.bookkeeping import round_succeed, stage_finish, stage_start
from discovery.stages.evaluate import evaluator_label
from hull.hull_lookup import HullLookup


def run(round: Round) -> RoundStage:
    stage = stage_start(round, RoundStage.Name.METRICS)
    round.refresh_from_db()
    metrics = {**(round.metrics or {}), **round_metrics(round)}
    Round.objects.filter(pk=round.pk).update(metrics=metrics)
    stage_finish(
        stage, f"hit rate {_pct(metrics['hit_rate'])} vs baseline {_pct(metrics['baseline_hit_rate'])}"
    )
    round_succeed(round)
    return stage


def round_metrics(round: Round) -> dict:
    """Hit rates of the filtered and baseline arms (``discovery.metrics``: every evaluation spent in the
    denominator, a hit strictly below the hull of the round's start), judged with the round's evaluator."""
    lookup = HullLookup(hull_set=round.hull_set, as_of=round.started_at)
    candidates = list(round.candidates.all())
    arms: dict[str, list[Outcome]] = {"filtered": [], "baseline": []}
    errors = []
    for c in candidates:
        formation = distance = None
        if c.energy_per_atom is not None:
            composition = Composition(c.composition).as_dict()
            formation = lookup.formation_energy(composition, c.energy_per_atom)
            distance = lookup.decomposition_energy(composition, formation) if formation is not None else None
            if c.formation_energy_per_atom != formation or c.decomposition_energy != distance:
                Candidate.objects.filter(pk=c.pk).update(
                    formation_energy_per_atom=formation, decomposition_energy=distance
                )
            if c.predicted_formation_energy is not None and formation is not None:
                errors.append(abs(c.predicted_formation_energy - formation))
        if c.status in (Candidate.Status.GENERATED, Candidate.Status.REJECTED, Candidate.Status.SELECTED):
            continue  # not evaluated (rejected by the filter, or the round stopped before it)
        outcome = Outcome(
            failed=c.status == Candidate.Status.FAILED,
            converged=bool((c.evaluation or {}).get("trajectory", {}).get("converged", False)),
            distance=distance,
        )
        for arm, member in (("filtered", c.kept), ("baseline", c.baseline)):
            if member:
                arms[arm].append(outcome)
    count = {s: sum(1 for c in candidates if c.status == s) for s in Candidate.Status.values}
    filtered, baseline = arm_metrics(arms["filtered"]), arm_metrics(arms["baseline"])
    methods = sorted({(c.evaluation or {}).get("method") for c in candidates} - {None, ""})
    return {
        "evaluator": ", ".join(methods) or evaluator_label(RoundConfig.of(round).evaluator),
        "hit_tolerance": HIT_TOLERANCE,
        "generated": len(candidates),
        "kept": sum(1 for c in candidates if c.kept),
        "evaluated": count[Candidate.Status.EVALUATED] + count[Candidate.Status.INGESTED],
        "failed": count[Candidate.Status.FAILED],
        "unconverged": filtered["unconverged"] + baseline["unconverged"],
        "hit_rate": filtered["hit_rate"],
        "hits": filtered["hits"],
        "evaluations": filtered["evaluations"],
        "baseline_hit_rate": baseline["hit_rate"],
        "baseline_hits": baseline["hits"],
        "baseline_evaluated": baseline["evaluations"],
        "baseline_failed": baseline["failed"],
        "model_mae": sum(errors) / len(errors) if errors else None,
        "kept_iqr_median": _median([c.predicted_iqr for c in candidates if c.kept]),
        "by_generator": {
            g: sum(1 for c in candidates if c.generator == g)
            for g in sorted({c.generator for c in candidates})
        },
    }


def _median(values: list[float | None]) -> float | None:
    """The median of the known values (the ensemble's IQR of the kept candidates, eV/atom); None without any."""
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"
