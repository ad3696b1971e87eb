"""The stages of a discovery round (Merchant et al., Nature 624, 80 (2023): the GNoME data flywheel).

generate -> filter -> evaluate -> ingest -> hull -> retrain -> metrics

Each stage is a service over the round's rows: it records its state and progress on its ``RoundStage`` and is
idempotent, keyed by candidate id, so running it again (a retry, a worker killed mid-stage) adds nothing
twice. Celery tasks (``discovery.tasks``) and ``manage.py run_discovery`` call these same functions.
"""

import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import islice

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from pymatgen.core import Composition, Structure

from discovery.metrics import HIT_TOLERANCE, Outcome, arm_metrics
from discovery.models import Candidate, Round, RoundStage
from discovery.services import RoundConfig
from hull.engine import subsystems
from hull.errors import CatalogueError
from hull.hull_lookup import HullLookup
from hull.ingest.records import EntryRecord
from hull.models import ChemicalSystem, Entry, Stability
from hull.search import EntrySearch, search_entries
from hull.services.chemsys import supersystems_among
from hull.services.ingest import ingest_records

logger = logging.getLogger(__name__)

STAGES = list(RoundStage.Name.values)
DISCOVERY_SOURCE = "discovery"
# Bound the evaluator's work per candidate: CHGNet relaxations of big cells are slow on a CPU.
MAX_PARENT_SITES = 24


class RoundCancelled(Exception):
    """The round was cancelled while a stage ran; the stage stops where it is."""


# --- stage bookkeeping -------------------------------------------------------------------------------------


def stage_of(round: Round, name: str) -> RoundStage:
    stage, _ = RoundStage.objects.get_or_create(
        round=round, name=name, defaults={"order": STAGES.index(name)}
    )
    return stage


def next_stage(round: Round) -> str | None:
    """The first stage that has not finished, in order."""
    done = {RoundStage.Status.SUCCEEDED, RoundStage.Status.SKIPPED}
    statuses = dict(round.stages.values_list("name", "status"))
    return next((name for name in STAGES if statuses.get(name) not in done), None)


def stage_start(round: Round, name: str, total: int = 0) -> RoundStage:
    check_not_cancelled(round)
    with transaction.atomic():
        Round.objects.filter(pk=round.pk, status=Round.Status.PENDING).update(
            status=Round.Status.RUNNING, started_at=timezone.now()
        )
        stage = stage_of(round, name)
        stage.status = RoundStage.Status.RUNNING
        stage.total = total
        stage.started_at = stage.started_at or timezone.now()
        stage.save(update_fields=["status", "total", "started_at"])
    return stage


def stage_finish(stage: RoundStage, message: str = "", status: str = RoundStage.Status.SUCCEEDED) -> None:
    if not stage.total:  # progress went straight to the database (stage_progress): keep it
        stage.refresh_from_db(fields=["done", "total"])
    stage.status = status
    stage.message = message[:2000]
    stage.finished_at = timezone.now()
    if status == RoundStage.Status.SUCCEEDED and stage.total:
        stage.done = stage.total
    stage.save(update_fields=["status", "message", "finished_at", "done"])


def stage_progress(stage: RoundStage, done: int, total: int | None = None) -> None:
    updates = {"done": done}
    if total is not None:
        updates["total"] = total
    RoundStage.objects.filter(pk=stage.pk).update(**updates)


def check_not_cancelled(round: Round) -> None:
    status = Round.objects.filter(pk=round.pk).values_list("status", flat=True).first()
    if status == Round.Status.CANCELLED:
        raise RoundCancelled(f"round {round.number} was cancelled")


def round_fail(round: Round, stage_name: str, error: str) -> None:
    with transaction.atomic():
        Round.objects.filter(pk=round.pk).exclude(status=Round.Status.CANCELLED).update(
            status=Round.Status.FAILED, error=error[:5000], finished_at=timezone.now()
        )
        RoundStage.objects.filter(round=round, name=stage_name).update(
            status=RoundStage.Status.FAILED, message=error[:2000], finished_at=timezone.now()
        )


def round_succeed(round: Round) -> None:
    Round.objects.filter(pk=round.pk, status=Round.Status.RUNNING).update(
        status=Round.Status.SUCCEEDED, finished_at=timezone.now()
    )


# --- generate ----------------------------------------------------------------------------------------------


def scope_parents(plan: RoundConfig, hull_set: str) -> list[tuple[str, Structure]]:
    """Stable entries of the scope with a structure of at most ``MAX_PARENT_SITES`` sites."""
    search = EntrySearch(is_stable=True, hull_set=hull_set, nsites_max=MAX_PARENT_SITES, sort="id")
    if plan.elements:
        search.elements_only = list(plan.scope_elements())
    queryset = search_entries(search).filter(structure__isnull=False)
    if plan.chemsys and not plan.elements:
        wanted = {sub for cs in plan.chemsys for sub in subsystems(cs)}
        queryset = queryset.filter(chemsys_id__in=sorted(wanted))
    return [
        (public_id, Structure.from_dict(s)) for public_id, s in queryset.values_list("public_id", "structure")
    ]


def stage_generate(round: Round) -> RoundStage:
    """Candidates from each chosen generator, an equal share of the budget each, stored idempotently.

    The parents and the known compositions are those of the round's start (the parents' ids are kept on the
    round), so running the stage again yields the same candidates, whose ids are already stored.
    """
    plan = RoundConfig.of(round)
    if stage_of(round, RoundStage.Name.GENERATE).status == RoundStage.Status.SUCCEEDED:
        return stage_of(round, RoundStage.Name.GENERATE)
    stage = stage_start(round, RoundStage.Name.GENERATE, total=plan.budget)
    round.refresh_from_db()
    parents = round_parents(round, plan)
    known = set(
        Entry.objects.filter(created_at__lte=round.started_at)
        .values_list("reduced_formula", flat=True)
        .distinct()
    )
    scope = plan.scope_elements()
    share = max(1, plan.budget // max(1, len(plan.generators)))
    produced, notes = 0, []
    for name in plan.generators:
        if name == "composition":
            stream, note = composition_pipeline(plan, round.hull_set, share, known)
            if note:
                notes.append(note)
        else:
            stream = structure_generator(name, parents, budget=share, known=known, scope=scope)
        for chunk in _chunks(stream, 200):
            _store_candidates(round, chunk)
            produced += len(chunk)
            stage_progress(stage, produced)
            check_not_cancelled(round)
    total = round.candidates.count()
    stage.total = total
    stage_finish(
        stage, f"{total} candidates from {len(parents)} parents" + ("; " + "; ".join(notes) if notes else "")
    )
    return stage


def structure_generator(
    name: str, parents: list[tuple[str, Structure]], *, budget: int, known: set[str], scope: list[str]
) -> Iterator:
    """The candidates of one parent-based generator (``substitution`` or ``saps``), as every round makes them."""
    from discovery.generation.saps import saps_candidates
    from discovery.generation.substitution import substitution_candidates

    if name == "substitution":
        return substitution_candidates(parents, budget=budget, known_formulas=known, allowed_elements=scope)
    if name == "saps":
        return saps_candidates(parents, budget=budget, known_formulas=known, allowed_elements=scope)
    raise CatalogueError(f"unknown generator {name!r}")


def round_parents(round: Round, plan: RoundConfig) -> list[tuple[str, Structure]]:
    """The round's parents: chosen once (stable entries of the scope when it first ran), then kept."""
    metrics = round.metrics or {}
    if "parents" not in metrics:
        parents = scope_parents(plan, round.hull_set)
        Round.objects.filter(pk=round.pk).update(metrics={**metrics, "parents": [pid for pid, _ in parents]})
        round.metrics = {**metrics, "parents": [pid for pid, _ in parents]}
        return parents
    wanted = metrics["parents"]
    structures = dict(Entry.objects.filter(public_id__in=wanted).values_list("public_id", "structure"))
    return [(pid, Structure.from_dict(structures[pid])) for pid in wanted if pid in structures]


def composition_pipeline(plan: RoundConfig, hull_set: str, budget: int, known: set[str]):
    """Compositions with the relaxed oxidation-state rule, ranked by the compositional model; AIRSS
    structures for those predicted within the threshold of the hull."""
    from discovery.generation.airss import airss_candidates
    from discovery.generation.compositions import enumerate_compositions
    from discovery.ml_adapter import active_ensemble

    try:
        _, ensemble = active_ensemble("compositional")
    except CatalogueError as exc:
        return iter(()), f"composition pipeline skipped: {exc}"
    compositions = enumerate_compositions(
        plan.scope_elements(), max_atoms=12, exclude_formulas=known, budget=20 * budget
    )
    if not compositions:
        return iter(()), "composition pipeline: no new compositions in scope"
    predicted = ensemble.predict_compositions(compositions).median
    lookup = HullLookup(hull_set=hull_set)
    ranked = []
    for comp, energy in zip(compositions, predicted, strict=True):
        distance = lookup.decomposition_energy(comp.as_dict(), float(energy))
        if distance is not None and distance <= plan.threshold:
            ranked.append((distance, comp))
    ranked.sort(key=lambda pair: pair[0])
    promising = [comp for _, comp in ranked]
    return airss_candidates(promising, budget=budget, per_composition=5, seed=plan.seed), (
        f"composition pipeline: {len(promising)} of {len(compositions)} compositions within {plan.threshold} eV/atom"
    )


def _store_candidates(round: Round, candidates) -> None:
    rows = [
        Candidate(
            round=round,
            candidate_id=c.candidate_id,
            generator=c.generator,
            parent_id=c.parent_id or "",
            operation=c.operation[:255],
            composition=c.composition,
            chemsys="-".join(sorted(el.symbol for el in c.structure.composition.elements)),
            structure=c.structure.as_dict(),
        )
        for c in candidates
    ]
    Candidate.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)


# --- filter ------------------------------------------------------------------------------------------------


def stage_filter(round: Round) -> RoundStage:
    """Predict every candidate with the active structural ensemble (median over models of the minimum over
    volumes), place it against the hull of the round's hull set, keep those within the threshold, one per
    composition (or per structure cluster), and draw the random baseline sample."""
    from discovery.ml_adapter import active_ensemble
    from ml_backend.ensemble import Augmentation

    plan = RoundConfig.of(round)
    candidates = list(round.candidates.order_by("id"))
    stage = stage_start(round, RoundStage.Name.FILTER, total=len(candidates))
    _, ensemble = active_ensemble("structural")
    members = ensemble.members[: plan.ensemble_size]
    if len(members) < len(ensemble.members):
        from ml_backend.ensemble import Ensemble

        ensemble = Ensemble(members)
    lookup = HullLookup(hull_set=round.hull_set)
    augmentation = Augmentation(num_volumes=plan.volumes)
    for start in range(0, len(candidates), 64):
        check_not_cancelled(round)
        block = candidates[start : start + 64]
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
    stage_finish(
        stage,
        f"kept {len(kept)} of {len(candidates)} (threshold {plan.threshold} eV/atom); baseline {len(baseline)}",
    )
    return stage


def baseline_sample(candidates: list, plan: RoundConfig, round_number: int) -> list:
    """The unfiltered baseline: ``baseline_size`` candidates drawn at random (seeded) from all generated."""
    return random.Random(plan.seed + round_number).sample(
        candidates, min(plan.baseline_size, len(candidates))
    )


def select_candidates(candidates: list[Candidate], plan: RoundConfig) -> list[Candidate]:
    """Within the threshold, lowest first: per composition the lowest (the active-learning setting), or per
    structure cluster (StructureMatcher, connected components) for a family deep dive; at most
    ``eval_budget``."""
    within = [
        c
        for c in candidates
        if c.predicted_decomposition_energy is not None and c.predicted_decomposition_energy <= plan.threshold
    ]
    within.sort(key=lambda c: (c.predicted_decomposition_energy, c.candidate_id))
    if plan.selection == "clusters":
        groups = _structure_clusters(within)
    else:
        groups = defaultdict(list)
        for c in within:
            groups[c.composition].append(c)
    best = [members[0] for members in groups.values()]
    best.sort(key=lambda c: (c.predicted_decomposition_energy, c.candidate_id))
    return best[: plan.eval_budget]


def _structure_clusters(candidates: list[Candidate]) -> dict[int, list[Candidate]]:
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
            clusters[len(clusters)] = sorted(
                (members[i] for i in indices),
                key=lambda c: (c.predicted_decomposition_energy, c.candidate_id),
            )
    return clusters


# --- evaluate ----------------------------------------------------------------------------------------------


def evaluation_chunks(round: Round) -> list[list[int]]:
    """Selected candidates not evaluated yet, in chunks for the workers."""
    plan = RoundConfig.of(round)
    ids = list(
        round.candidates.filter(status=Candidate.Status.SELECTED).order_by("id").values_list("id", flat=True)
    )
    return [ids[i : i + plan.chunk_size] for i in range(0, len(ids), plan.chunk_size)]


def stage_evaluate_begin(round: Round) -> RoundStage:
    total = round.candidates.filter(
        status__in=[
            Candidate.Status.SELECTED,
            Candidate.Status.EVALUATED,
            Candidate.Status.FAILED,
            Candidate.Status.INGESTED,
        ]
    ).count()
    return stage_start(round, RoundStage.Name.EVALUATE, total=total)


_evaluators: dict[tuple, object] = {}


def evaluator_for(plan: RoundConfig):
    """The configured evaluator, built once per worker process (CHGNet loads its weights once)."""
    key = (plan.evaluator, plan.relax_steps)
    if key not in _evaluators:
        if plan.evaluator == "chgnet":
            from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator

            _evaluators[key] = CHGNetEvaluator(
                steps=plan.relax_steps, threads=getattr(settings, "PORTAL_EVALUATOR_THREADS", None)
            )
        elif plan.evaluator == "vasp":
            from discovery.evaluation.vasp_evaluator import VaspEvaluator

            command = getattr(settings, "PORTAL_VASP_COMMAND", "")
            if not command:
                raise CatalogueError("the VASP evaluator needs PORTAL_VASP_COMMAND (e.g. 'mpirun vasp_std')")
            _evaluators[key] = VaspEvaluator(run_command=command, work_dir=settings.VAR_DIR / "vasp")
        else:
            raise CatalogueError(f"unknown evaluator {plan.evaluator!r}")
    return _evaluators[key]


def evaluate_chunk(round: Round, candidate_pks: list[int]) -> int:
    """Evaluate the still-selected candidates of one chunk; failures are recorded, never raised."""
    plan = RoundConfig.of(round)
    evaluator = evaluator_for(plan)
    stage = stage_of(round, RoundStage.Name.EVALUATE)
    done = 0
    for candidate in Candidate.objects.filter(
        pk__in=candidate_pks, status=Candidate.Status.SELECTED
    ).order_by("id"):
        check_not_cancelled(round)
        (result,) = evaluator.evaluate([Structure.from_dict(candidate.structure)])
        candidate.evaluation = {
            "method": result.method,
            "method_family": result.method_family,
            "status": result.status,
            "reason": result.reason,
            "trajectory": result.as_dict()["trajectory"],
        }
        if result.ok:
            candidate.status = Candidate.Status.EVALUATED
            candidate.energy_per_atom = result.energy_per_atom
            candidate.relaxed_structure = result.structure.as_dict()
        else:
            candidate.status = Candidate.Status.FAILED
        with transaction.atomic():
            updated = Candidate.objects.filter(pk=candidate.pk, status=Candidate.Status.SELECTED).update(
                status=candidate.status,
                energy_per_atom=candidate.energy_per_atom,
                relaxed_structure=candidate.relaxed_structure,
                evaluation=candidate.evaluation,
            )
            if updated:
                RoundStage.objects.filter(pk=stage.pk).update(done=F("done") + 1)
        done += updated
    return done


def stage_evaluate_finish(round: Round) -> RoundStage | None:
    """Close the stage once no selected candidate is left (returns None while some are)."""
    if round.candidates.filter(status=Candidate.Status.SELECTED).exists():
        return None
    stage = stage_of(round, RoundStage.Name.EVALUATE)
    ok = round.candidates.filter(status=Candidate.Status.EVALUATED).count()
    failed = round.candidates.filter(status=Candidate.Status.FAILED).count()
    stage_finish(stage, f"{ok} evaluated, {failed} failed")
    return stage


# --- ingest and hull ---------------------------------------------------------------------------------------


def stage_ingest(round: Round) -> RoundStage:
    """Evaluated candidates join the catalogue (source ``discovery``, their evaluator's method, so ML results
    enter the ``all`` hull set only) in one batch with the hull update; the stable set before is kept to
    count the entries the round pushes off the hull."""
    if stage_of(round, RoundStage.Name.INGEST).status == RoundStage.Status.SUCCEEDED:
        return stage_of(round, RoundStage.Name.INGEST)
    stage = stage_start(round, RoundStage.Name.INGEST)
    evaluated = list(round.candidates.filter(status=Candidate.Status.EVALUATED).order_by("id"))
    stage_progress(stage, 0, len(evaluated))
    if round.batch_id is not None and not evaluated:
        stage_finish(stage, "already ingested")
        return stage
    systems = {c.chemsys for c in evaluated}
    all_systems = list(ChemicalSystem.objects.values_list("name", flat=True))
    watched = supersystems_among(touched=systems, systems=all_systems)
    stable_before = list(
        Stability.objects.filter(
            hull_set=round.hull_set, is_stable=True, entry__chemsys_id__in=sorted(watched)
        ).values_list("entry_id", flat=True)
    )
    records = [_record_of(round, c) for c in evaluated]
    with transaction.atomic():
        report = ingest_records(
            rows=records,
            source=DISCOVERY_SOURCE,
            fmt="discovery",
            label=f"discovery round {round.number}",
            skip_invalid=True,
        )
        ids = dict(
            Entry.objects.filter(
                source=DISCOVERY_SOURCE, source_id__in=[c.candidate_id for c in evaluated]
            ).values_list("source_id", "id")
        )
        for candidate in evaluated:
            if candidate.candidate_id in ids:
                Candidate.objects.filter(pk=candidate.pk).update(
                    status=Candidate.Status.INGESTED, entry_id=ids[candidate.candidate_id]
                )
        rejected = {p.location: p.message for p in report.rejected}
        for candidate in evaluated:
            if candidate.candidate_id not in ids:
                reason = next(
                    (m for loc, m in rejected.items() if candidate.candidate_id in loc), "rejected at ingest"
                )
                Candidate.objects.filter(pk=candidate.pk).update(
                    status=Candidate.Status.FAILED, evaluation={**candidate.evaluation, "reason": reason}
                )
        Round.objects.filter(pk=round.pk).update(
            batch_id=report.batch_id, metrics={**(round.metrics or {}), "stable_before": stable_before}
        )
    round.refresh_from_db()
    stage_finish(stage, report.summary())
    return stage


def _record_of(round: Round, candidate: Candidate) -> EntryRecord:
    structure = Structure.from_dict(candidate.relaxed_structure)
    energy = candidate.energy_per_atom * len(structure)
    return EntryRecord(
        location=f"round {round.number} candidate {candidate.candidate_id}",
        source_id=candidate.candidate_id,
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=energy,
        correction=0.0,
        method=candidate.evaluation.get("method", "unspecified"),
        method_family=candidate.evaluation.get("method_family", "ml"),
        data={
            "round": round.number,
            "generator": candidate.generator,
            "parent": candidate.parent_id,
            "operation": candidate.operation,
            "trajectory": candidate.evaluation.get("trajectory", {}),
        },
    )


def stage_hull(round: Round) -> RoundStage:
    """What the (incremental, already applied) hull update changed: new stable entries and entries pushed
    off the hull, in the round's hull set."""
    stage = stage_start(round, RoundStage.Name.HULL)
    before = set((round.metrics or {}).get("stable_before", []))
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
    metrics = {k: v for k, v in (round.metrics or {}).items() if k != "stable_before"}
    metrics.update(
        {"new_stable": new_stable, "pushed_off_hull": len(pushed_off), "pushed_off_ids": pushed_off[:200]}
    )
    Round.objects.filter(pk=round.pk).update(metrics=metrics)
    stage_finish(stage, f"{new_stable} new stable entries, {len(pushed_off)} pushed off the hull")
    return stage


# --- retrain and metrics -----------------------------------------------------------------------------------


def stage_retrain(round: Round) -> RoundStage:
    """Retrain the structural ensemble on the grown catalogue, warm-started from the active one."""
    from discovery.ml_adapter import models_retrain

    plan = RoundConfig.of(round)
    stage = stage_start(round, RoundStage.Name.RETRAIN)
    if not plan.retrain:
        stage_finish(stage, "retraining not requested", RoundStage.Status.SKIPPED)
        return stage
    report = models_retrain(discovery_round=round, epochs=plan.retrain_epochs)
    stage_finish(stage, f"{report.model.name}: test MAE {report.test_mae:.3f} eV/atom")
    return stage


def stage_metrics(round: Round) -> RoundStage:
    """Per-round metrics; hit rates are judged against the hull as it stood when the round began."""
    stage = stage_start(round, RoundStage.Name.METRICS)
    round.refresh_from_db()
    metrics = dict(round.metrics or {})
    metrics.update(round_metrics(round))
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
        "by_generator": {
            g: sum(1 for c in candidates if c.generator == g)
            for g in sorted({c.generator for c in candidates})
        },
    }


def evaluator_label(key: str) -> str:
    """The method label (with version) the evaluator ``key`` of a round config writes on its results."""
    if key == "chgnet":
        from discovery.evaluation.chgnet_evaluator import CHGNetEvaluator

        return CHGNetEvaluator.method
    if key == "vasp":
        from discovery.evaluation.vasp_evaluator import VaspEvaluator

        return VaspEvaluator.method
    return key


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- running a round in-process ----------------------------------------------------------------------------


def run_stage(round: Round, name: str) -> None:
    """Run one stage to completion in this process (the evaluate fan-out runs its chunks in turn)."""
    if name == RoundStage.Name.GENERATE:
        stage_generate(round)
    elif name == RoundStage.Name.FILTER:
        stage_filter(round)
    elif name == RoundStage.Name.EVALUATE:
        stage_evaluate_begin(round)
        for chunk in evaluation_chunks(round):
            evaluate_chunk(round, chunk)
        stage_evaluate_finish(round)
    elif name == RoundStage.Name.INGEST:
        stage_ingest(round)
    elif name == RoundStage.Name.HULL:
        stage_hull(round)
    elif name == RoundStage.Name.RETRAIN:
        stage_retrain(round)
    elif name == RoundStage.Name.METRICS:
        stage_metrics(round)


def run_round_inline(round: Round) -> Round:
    """Every remaining stage of ``round`` in this process, in order; a failure marks the round failed."""
    while (name := next_stage(round)) is not None:
        try:
            run_stage(round, name)
        except RoundCancelled:
            break
        except Exception as exc:
            logger.exception("round %s failed in stage %s", round.number, name)
            round_fail(round, name, f"{type(exc).__name__}: {exc}")
            break
        round.refresh_from_db()
    round.refresh_from_db()
    return round
