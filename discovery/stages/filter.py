"""Filter: the active structural ensemble predicts every candidate; those predicted near the hull are kept for
evaluation, beside a random baseline sample of everything generated."""

import random
from collections import defaultdict

from django.db import transaction
from pymatgen.core import Composition, Structure

from discovery.config import RoundConfig
from discovery.models import Candidate, Round, RoundStage
from discovery.stages.bookkeeping import check_not_cancelled, stage_finish, stage_progress, stage_start
from hull.hull_lookup import HullLookup

BLOCK = 64  # candidates predicted at a time


def run(round: Round) -> RoundStage:
    """Predict every candidate with exactly the round's ensemble size of members of the active structural model
    (median over members of the minimum over the round's test-time volumes, and the IQR over members), place it
    against the hull of the round's hull set, keep those within the threshold (by median + k x IQR,
    :func:`selection_energy`), one per composition (or per structure cluster), and draw the random baseline
    sample. Fails, saying how to train them, when the active model has fewer members than the round asks for."""
    from discovery.ml_adapter import round_ensemble
    from ml_backend.ensemble import Augmentation

    plan = RoundConfig.of(round)
    candidates = list(round.candidates.order_by("id"))
    stage = stage_start(round, RoundStage.Name.FILTER, total=len(candidates))
    model, ensemble = round_ensemble("structural", plan.ensemble_size)
    lookup = HullLookup(hull_set=round.hull_set)
    augmentation = Augmentation(num_volumes=plan.volumes)
    for start in range(0, len(candidates), BLOCK):
        check_not_cancelled(round)
        block = candidates[start : start + BLOCK]
        prediction = ensemble.predict_structures(
            [Structure.from_dict(c.structure) for c in block], augmentation
        )
        for candidate, median, iqr in zip(block, prediction.median, prediction.iqr, strict=True):
            composition = Composition(candidate.composition).as_dict()
            candidate.predicted_formation_energy = float(median)
            candidate.predicted_iqr = float(iqr)
            candidate.predicted_decomposition_energy = lookup.decomposition_energy(composition, float(median))
        Candidate.objects.bulk_update(
            block, ["predicted_formation_energy", "predicted_iqr", "predicted_decomposition_energy"]
        )
        stage_progress(stage, start + len(block))
    kept = select_candidates(candidates, plan)
    kept_ids = {c.pk for c in kept}
    # The baseline is a random sample of everything generated (what evaluating without the models would find);
    # a sampled candidate that the filter also kept is evaluated once and counts in both hit rates.
    baseline = baseline_sample(candidates, plan, round.number)
    baseline_ids = {c.pk for c in baseline}
    with transaction.atomic():
        round.candidates.update(status=Candidate.Status.REJECTED, kept=False, baseline=False)
        round.candidates.filter(pk__in=kept_ids).update(status=Candidate.Status.SELECTED, kept=True)
        round.candidates.filter(pk__in=baseline_ids).update(status=Candidate.Status.SELECTED, baseline=True)
    fractions = augmentation.volume_fractions()
    rule = "median" if not plan.iqr_weight else f"median {plan.iqr_weight:+g} x IQR"
    stage_finish(
        stage,
        f"kept {len(kept)} of {len(candidates)} ({rule} within {plan.threshold} eV/atom); baseline "
        f"{len(baseline)}; predicted by {len(ensemble.members)} members of {model.name} x {len(fractions)} "
        f"volumes ({fractions[0]:g}-{fractions[-1]:g})",
    )
    return stage


def baseline_sample(candidates: list, plan: RoundConfig, round_number: int) -> list:
    """The unfiltered baseline: ``baseline_size`` candidates drawn at random (seeded) from all generated."""
    return random.Random(plan.seed + round_number).sample(
        candidates, min(plan.baseline_size, len(candidates))
    )


def selection_energy(candidate: Candidate, iqr_weight: float) -> float | None:
    """What the filter keeps (within the threshold) and ranks by: the predicted distance to the hull of the
    ensemble median plus ``iqr_weight`` (k) times the members' interquartile range, in eV/atom. For a fixed
    composition the distance is the formation energy less the hull's, so this is the distance of
    median + k x IQR. k = 0 is the paper's rule on the median; None when the candidate was not placed."""
    if candidate.predicted_decomposition_energy is None:
        return None
    if not iqr_weight:
        return candidate.predicted_decomposition_energy
    return candidate.predicted_decomposition_energy + iqr_weight * (candidate.predicted_iqr or 0.0)


def select_candidates(candidates: list[Candidate], plan: RoundConfig) -> list[Candidate]:
    """Within the threshold by :func:`selection_energy`, lowest first: per composition the lowest (the
    active-learning setting), or per structure cluster (StructureMatcher, connected components) for a family
    deep dive; at most ``eval_budget``."""
    energy = {id(c): selection_energy(c, plan.iqr_weight) for c in candidates}

    def rank(c: Candidate) -> tuple[float, str]:
        return energy[id(c)], c.candidate_id

    within = [c for c in candidates if energy[id(c)] is not None and energy[id(c)] <= plan.threshold]
    within.sort(key=rank)
    if plan.selection == "clusters":
        groups = _structure_clusters(within, rank)
    else:
        groups = defaultdict(list)
        for c in within:
            groups[c.composition].append(c)
    best = [members[0] for members in groups.values()]
    best.sort(key=rank)
    return best[: plan.eval_budget]


def _structure_clusters(candidates: list[Candidate], rank) -> dict[int, list[Candidate]]:
    from pymatgen.analysis.structure_matcher import StructureMatcher

    matcher = StructureMatcher()
    by_composition: dict[str, list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_composition[c.composition].append(c)
    clusters: dict[int, list[Candidate]] = {}
    for members in by_composition.values():
        structures = [Structure.from_dict(c.structure) for c in members]
        for group in matcher.group_structures(structures):
            indices = [next(i for i, s in enumerate(structures) if s is g) for g in group]
            clusters[len(clusters)] = sorted((members[i] for i in indices), key=rank)
    return clusters
