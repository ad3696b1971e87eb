"""Incremental hull updates equal a full build exactly, and the update plan covers every change."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hull.engine.geometry
from hull.engine import HullResult, PhaseEntry, compute_hulls, systems_to_update, update_hulls
from hull.engine.kernels import construction
from hull.engine.kernels.construction import KNOWN_HULL_UPDATED, HullPoints

ELEMENTS = ("Fe", "Li", "O", "P")


@st.composite
def catalogues(draw, max_entries: int = 40) -> list[PhaseEntry]:
    """Random small catalogues: integer compositions, coarse energies (so ties and duplicates
    occur), elements whose references arrive late or never."""
    size = draw(st.integers(min_value=1, max_value=max_entries))
    entries = []
    for key in range(size):
        elements = draw(st.sets(st.sampled_from(ELEMENTS), min_size=1, max_size=4))
        composition = {el: draw(st.integers(min_value=1, max_value=3)) for el in sorted(elements)}
        energy = draw(st.integers(min_value=-40, max_value=5)) / 8
        entries.append(PhaseEntry(key, composition, energy))
    return entries


@st.composite
def insertion_plans(draw) -> tuple[list[PhaseEntry], list[list[PhaseEntry]]]:
    """A catalogue in random order, split into an initial build and 1 to 4 update batches."""
    entries = draw(catalogues())
    order = draw(st.permutations(entries))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(order)), min_size=1, max_size=4)))
    bounds = [0, *cuts, len(order)]
    parts = [list(order[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    return parts[0], parts[1:]


def changed_systems(before: HullResult, after: HullResult) -> set[str]:
    """Systems whose hull or whose (pre-existing) entries' thermo differ between two builds."""
    changed = {cs for cs, hull in after.hulls.items() if before.hulls.get(cs) != hull}
    changed |= {t.chemsys for k, t in after.thermo.items() if k in before.thermo and before.thermo[k] != t}
    return changed


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(insertion_plans())
def test_update_equals_full_build_and_plan_covers_changes(plan):
    initial, batches = plan
    known = list(initial)
    state = compute_hulls(known)
    for batch in batches:
        entries_by_key = {e.key: e for e in known}
        planned = systems_to_update(
            state, state.thermo, batch, set(state.hulls), entries_by_key=entries_by_key
        )
        updated = update_hulls(state, entries_by_key, batch)
        # a state without its cached inputs (as rebuilt from storage) updates to the same result
        assert update_hulls(HullResult(state.thermo, state.hulls), entries_by_key, batch) == updated
        known += batch
        full = compute_hulls(known)
        assert updated == full
        assert changed_systems(state, full) <= planned
        state = updated


def binary(extra: list[PhaseEntry] | None = None) -> list[PhaseEntry]:
    return [
        PhaseEntry(1, {"Li": 1}, -2.0),
        PhaseEntry(2, {"O": 1}, -4.0),
        PhaseEntry(3, {"Li": 1, "O": 1}, -4.0),  # E_f = -1
        PhaseEntry(4, {"Fe": 1}, -8.0),
        PhaseEntry(5, {"Fe": 1, "Li": 1, "O": 2}, -6.5),
        *(extra or []),
    ]


def test_entry_above_hull_changes_only_its_system_but_the_gnome_energy_of_stable_entries():
    entries = binary()
    state = compute_hulls(entries)
    # Li3O lies above the Li--LiO line (E_f -0.4 > -0.5) but below the Li--O line without LiO
    newcomer = PhaseEntry(6, {"Li": 3, "O": 1}, -2.9)
    by_key = {e.key: e for e in entries}
    plan = systems_to_update(state, state.thermo, [newcomer], set(state.hulls), entries_by_key=by_key)
    assert plan == {"Li-O"}
    updated = update_hulls(state, by_key, [newcomer])
    assert updated == compute_hulls([*entries, newcomer])
    assert updated.thermo[6].e_above_hull == pytest.approx(0.1)
    assert updated.thermo[3].decomposition_energy != state.thermo[3].decomposition_energy
    assert updated.hulls["Li-O"] == state.hulls["Li-O"]


def test_entry_below_hull_and_new_reference_reach_supersets():
    entries = binary()
    state = compute_hulls(entries)
    by_key = {e.key: e for e in entries}
    stable = PhaseEntry(6, {"Li": 2, "O": 1}, -4.0)
    assert systems_to_update(state, state.thermo, [stable], set(state.hulls), entries_by_key=by_key) == {
        "Li-O",
        "Fe-Li-O",
    }
    new_ref = PhaseEntry(7, {"Fe": 1}, -8.5)
    assert systems_to_update(state, state.thermo, [new_ref], set(state.hulls), entries_by_key=by_key) == {
        "Fe",
        "Fe-Li-O",
    }
    assert update_hulls(state, by_key, [stable, new_ref]) == compute_hulls([*entries, stable, new_ref])


def test_first_reference_of_an_element_makes_flagged_systems_computable():
    entries = [*binary(), PhaseEntry(8, {"Li": 2, "S": 1}, -4.5)]
    state = compute_hulls(entries)
    assert state.thermo[8].missing_elements == ("S",)
    sulfur = PhaseEntry(9, {"S": 1}, -4.1)
    updated = update_hulls(state, {e.key: e for e in entries}, [sulfur])
    assert updated == compute_hulls([*entries, sulfur])
    assert updated.thermo[8].missing_elements == () and updated.thermo[8].is_stable


def test_update_rejects_known_keys_and_bad_energies():
    entries = binary()
    state = compute_hulls(entries)
    by_key = {e.key: e for e in entries}
    with pytest.raises(ValueError, match="entry 3"):
        update_hulls(state, by_key, [PhaseEntry(3, {"Li": 1}, -1.0)])
    with pytest.raises(ValueError, match="entry 11"):
        update_hulls(state, by_key, [PhaseEntry(11, {"Li": 1}, float("nan"))])


def fe_li_o_p_catalogue(*, seed: int) -> list[PhaseEntry]:
    """Elemental references and 296 random Fe-Li-O-P compounds (2 to 4 elements)."""
    rng = random.Random(seed)
    refs = {"Fe": -8.3, "Li": -1.9, "O": -4.9, "P": -5.4}
    entries = [PhaseEntry(i, {el: 1}, energy) for i, (el, energy) in enumerate(refs.items())]
    for key in range(4, 300):
        elements = rng.sample(sorted(refs), rng.randint(2, 4))
        composition = {el: rng.randint(1, 5) for el in elements}
        total = sum(composition.values())
        mix = sum(refs[el] * a / total for el, a in composition.items())
        entries.append(PhaseEntry(key, composition, mix + rng.uniform(-2.0, 0.3)))
    return entries


def record_hull_paths(monkeypatch) -> list[int | None]:
    """Per system computed, how ``construction.hull_of_system`` got its hull (None: no earlier hull given)."""
    paths: list[int | None] = []
    original = construction.hull_of_system

    def recording(rows, refs, below, codes, old, *tolerances):
        out = original(rows, refs, below, codes, old, *tolerances)
        paths.append(out.how if len(HullPoints(*old).simplices) else None)
        return out

    monkeypatch.setattr(construction, "hull_of_system", recording)
    return paths


def test_update_reuses_facets_of_strictly_convex_hulls(monkeypatch):
    entries = fe_li_o_p_catalogue(seed=11)
    state = compute_hulls(entries)
    # new polymorphs 0.5 eV/atom above existing entries that are already above the hull
    above = [e for e in entries if state.thermo[e.key].e_above_hull > 0.05 and len(e.composition) > 1]
    newcomers = [
        PhaseEntry(1000 + i, e.composition, e.energy_per_atom + 0.5) for i, e in enumerate(above[:40])
    ]
    paths = record_hull_paths(monkeypatch)
    updated = update_hulls(state, {e.key: e for e in entries}, newcomers)
    assert KNOWN_HULL_UPDATED in paths
    assert updated == compute_hulls([*entries, *newcomers])


def test_update_inserts_new_stable_points_into_known_hulls(monkeypatch):
    """New stable phases are inserted into the stored hulls of their systems and of every
    system containing them (no qhull call there), with the full build's result."""
    entries = fe_li_o_p_catalogue(seed=5)
    state = compute_hulls(entries)
    binaries = [e for e in entries if len(e.composition) == 2 and state.thermo[e.key].is_stable]
    # 0.2 eV/atom below stable binaries: new stable phases that cut off the old ones
    newcomers = [
        PhaseEntry(1000 + i, e.composition, e.energy_per_atom - 0.2) for i, e in enumerate(binaries[:4])
    ]
    paths = record_hull_paths(monkeypatch)
    qhull_calls = []
    qhull = hull.engine.geometry.qhull_facets
    monkeypatch.setattr(
        hull.engine.geometry, "qhull_facets", lambda points: qhull_calls.append(1) or qhull(points)
    )
    updated = update_hulls(state, {e.key: e for e in entries}, newcomers)
    assert updated == compute_hulls([*entries, *newcomers])
    known = [path for path in paths if path is not None]  # systems that had a hull before
    assert len(known) > len(newcomers)  # the supersets were recomputed from their known hulls too
    inserted = known.count(KNOWN_HULL_UPDATED)
    assert inserted >= len(known) - len(qhull_calls) and inserted > len(known) // 2
