"""Generate: candidates from each chosen generator, an equal share of the budget each, stored idempotently.

A crystal that an earlier generator of the round proposed (at any volume) is left out of the later ones'
candidates: one :class:`~discovery.generation.candidates.StructureIndex` deduplicates across generators."""

from collections.abc import Iterable, Iterator
from itertools import islice

from pymatgen.core import Structure

from discovery.config import RoundConfig
from discovery.generation.candidates import StructureIndex, novel_candidates
from discovery.models import Candidate, Round, RoundStage
from discovery.stages.bookkeeping import (
    check_not_cancelled,
    round_state_update,
    stage_finish,
    stage_progress,
    stage_start,
    stage_succeeded,
)
from hull.engine import subsystems
from hull.errors import CatalogueError
from hull.hull_lookup import HullLookup
from hull.models import Entry
from hull.search import EntrySearch, search_entries

# Bound the evaluator's work per candidate: CHGNet relaxations of big cells are slow on a CPU.
MAX_PARENT_SITES = 24


def run(round: Round) -> RoundStage:
    """The parents and the known compositions are those of the round's start (the parents' ids are kept in the
    round's state), so running the stage again yields the same candidates, whose ids are already stored."""
    if (succeeded := stage_succeeded(round, RoundStage.Name.GENERATE)) is not None:
        return succeeded
    plan = RoundConfig.of(round)
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
    produced, notes, index = 0, [], StructureIndex()
    for name in plan.generators:
        if name == "composition":
            stream, note = composition_pipeline(plan, round.hull_set, share, known)
            if note:
                notes.append(note)
        else:
            stream = structure_generator(name, parents, budget=share, known=known, scope=scope)
        for chunk in _chunks(novel_candidates(stream, index), 200):
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


def round_parents(round: Round, plan: RoundConfig) -> list[tuple[str, Structure]]:
    """The round's parents: chosen once (stable entries of the scope when it first ran), then kept."""
    if "parents" not in (round.state or {}):
        parents = scope_parents(plan, round.hull_set)
        round_state_update(round, parents=[pid for pid, _ in parents])
        return parents
    wanted = round.state["parents"]
    structures = dict(Entry.objects.filter(public_id__in=wanted).values_list("public_id", "structure"))
    return [(pid, Structure.from_dict(structures[pid])) for pid in wanted if pid in structures]


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


def composition_pipeline(plan: RoundConfig, hull_set: str, budget: int, known: set[str]):
    """Compositions with the relaxed oxidation-state rule, ranked by the median of the round's ensemble size of
    compositional models; AIRSS structures for those predicted within the threshold of the hull."""
    from discovery.generation.airss import airss_candidates
    from discovery.generation.compositions import MAX_FORMULA_ATOMS, enumerate_compositions
    from discovery.ml_adapter import EnsembleTooSmall, round_ensemble

    try:
        _, ensemble = round_ensemble("compositional", plan.ensemble_size)
    except EnsembleTooSmall:
        raise  # the round asked for more members than the model has: it fails and says how to train them
    except CatalogueError as exc:
        return iter(()), f"composition pipeline skipped: {exc}"
    compositions = enumerate_compositions(
        plan.scope_elements(), max_atoms=MAX_FORMULA_ATOMS, exclude_formulas=known, budget=20 * budget
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
    return airss_candidates(
        promising, budget=budget, per_composition=plan.random_structures, seed=plan.seed
    ), (
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


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
