"""Incremental hull updates: plan which chemical systems change, recompute only those.

A system's hull and its own entries' thermo are a deterministic function of (its own
entries, the elemental references of its elements, the stable points of its proper
subsystems); see ``hull.engine.system``. Hence, when entries join:

- a new or changed elemental reference (lower energy, or equal energy and smaller key)
  changes every system containing that element;
- a system that receives entries is recomputed: its hull if the entry is on or below it,
  otherwise only the new entry's thermo and the GNoME decomposition energies of the
  system's stable entries, which are measured against hulls *without* one stable vertex
  that the new entry may undercut (recomputing the whole system covers both);
- a system whose own stable set changed changes every superset system; one whose stable
  set did not change leaves its supersets' inputs bit-identical.

``systems_to_update`` predicts a superset of the systems to recompute from the current
hulls alone (an entry above the hull of its own system touches only that system; an entry
on or below it also touches every superset). ``update_hulls`` propagates exactly, bottom-up:
it recomputes the seeded systems and goes on to supersets only where a stable set changed.
A system that only received entries reuses its stored facets instead of calling qhull when
they provably are what qhull would return (strictly convex hull, every point clear of it).
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from hull.engine.build import (
    Reference,
    compute_one,
    group_by_system,
    merge_system_entries,
    parse_entry,
    stable_points_of,
)
from hull.engine.geometry import BARY_TOL, DEGENERATE_DET
from hull.engine.system import ON_HULL_TOL, HullPoints, KnownHull, RowTable, StablePoints, SystemEntries
from hull.engine.types import (
    EntryThermo,
    HullResult,
    PhaseEntry,
    SystemHull,
    check_entry,
    subsystems,
    system_order,
)
from hull.gc_pause import gc_paused


def current_references(
    hulls: Mapping[str, SystemHull], entries_by_key: Mapping[int, PhaseEntry]
) -> dict[str, Reference]:
    """Elemental references of a state: the stable entry of each unary system."""
    refs: dict[str, Reference] = {}
    for chemsys, system_hull in hulls.items():
        if "-" not in chemsys and system_hull.stable_keys:
            key = system_hull.stable_keys[0]
            refs[chemsys] = (float(entries_by_key[key].energy_per_atom), key)
    return refs


def updated_references(
    refs: Mapping[str, Reference], new_entries: Iterable[PhaseEntry]
) -> dict[str, Reference]:
    """References after the new unary entries join (lowest energy, then smallest key)."""
    updated = dict(refs)
    for entry in new_entries:
        if len(entry.composition) == 1:
            (element,) = entry.composition
            candidate = (float(entry.energy_per_atom), int(entry.key))
            if element not in updated or candidate < updated[element]:
                updated[element] = candidate
    return updated


class SupersetIndex:
    """Chemical systems indexed by element, to find the supersets of a system quickly.

    Not changed once made (``with_systems`` makes a new one), so states can share it.
    """

    def __init__(self, systems: Iterable[str]) -> None:
        self.systems = frozenset(systems)
        self._by_element: dict[str, set[str]] = {}
        self._add(self.systems)

    def _add(self, systems: Iterable[str]) -> None:
        for chemsys in systems:
            for element in chemsys.split("-"):
                self._by_element.setdefault(element, set()).add(chemsys)

    def with_systems(self, systems: set[str]) -> SupersetIndex:
        """This index with ``systems`` too (itself if it has them all)."""
        new = systems - self.systems
        if not new:
            return self
        index = SupersetIndex(())
        index.systems = self.systems | new
        index._by_element = {element: set(pool) for element, pool in self._by_element.items()}
        index._add(new)
        return index

    def containing(self, element: str) -> set[str]:
        return set(self._by_element.get(element, ()))

    def supersets(self, chemsys: str) -> set[str]:
        """Systems that strictly contain ``chemsys``: those that contain each of its elements."""
        pools = sorted((self._by_element.get(el, _EMPTY) for el in chemsys.split("-")), key=len)
        found = pools[0].intersection(*pools[1:])
        found.discard(chemsys)
        return found


_EMPTY: frozenset[str] = frozenset()


def systems_to_update(
    current: HullResult | Mapping[str, SystemHull],
    existing_thermo: Mapping[int, EntryThermo],
    new_entries: Sequence[PhaseEntry],
    all_chemsys: Iterable[str],
    *,
    entries_by_key: Mapping[int, PhaseEntry],
) -> set[str]:
    """Chemical systems whose hull or entries' thermo may change when ``new_entries`` join.

    ``current``: the present hulls; ``existing_thermo``: the present thermo (kept for the
    service's call shape; the plan needs only hulls and entries); ``all_chemsys``: every
    chemical system with entries;
    ``entries_by_key``: present entries (at least the stable ones of the touched systems).
    Conservative: an entry whose position cannot be decided counts as on the hull.
    """
    hulls = current.hulls if isinstance(current, HullResult) else current
    refs = current_references(hulls, entries_by_key)
    new_refs = updated_references(refs, new_entries)
    new_systems = {parse_entry(entry)[0] for entry in new_entries}
    index = SupersetIndex(set(all_chemsys) | set(hulls) | new_systems)
    plan: set[str] = set(new_systems)
    for element, ref in new_refs.items():
        if refs.get(element) != ref:
            plan |= index.containing(element)
    by_system: dict[str, list[PhaseEntry]] = {}
    for entry in new_entries:
        by_system.setdefault(parse_entry(entry)[0], []).append(entry)
    for chemsys, entries in by_system.items():
        if not _above_current_hull(entries, hulls.get(chemsys), entries_by_key, refs).all():
            plan |= index.supersets(chemsys)
    return plan


def _above_current_hull(
    entries: Sequence[PhaseEntry],
    system_hull: SystemHull | None,
    entries_by_key: Mapping[int, PhaseEntry],
    refs: Mapping[str, Reference],
) -> np.ndarray:
    """Which ``entries`` (all of one system) lie more than ON_HULL_TOL above its current hull."""
    undecided = np.zeros(len(entries), dtype=bool)
    if system_hull is None or system_hull.missing_elements or not system_hull.facets:
        return undecided
    elements = system_hull.elements
    if any(el not in refs for el in elements) or any(
        k not in entries_by_key for k in system_hull.stable_keys
    ):
        return undecided
    column = {el: i for i, el in enumerate(elements)}

    def fractions_of(entry: PhaseEntry) -> np.ndarray:
        row = np.zeros(len(elements))
        _, entry_elements, entry_fractions = parse_entry(entry)
        row[[column[el] for el in entry_elements]] = entry_fractions
        return row

    ref_energies = np.array([refs[el][0] for el in elements])
    vertex = np.array([fractions_of(entries_by_key[k]) for k in system_hull.stable_keys])
    vertex_energy = np.array([entries_by_key[k].energy_per_atom for k in system_hull.stable_keys])
    vertex_energy = vertex_energy - vertex @ ref_energies
    points = np.array([fractions_of(e) for e in entries])
    formation = np.array([e.energy_per_atom for e in entries]) - points @ ref_energies
    row_of = {k: i for i, k in enumerate(system_hull.stable_keys)}
    facets = np.array([[row_of[k] for k in facet] for facet in system_hull.facets])
    matrices = np.concatenate([vertex[facets][:, :, 1:], np.ones((*facets.shape, 1))], axis=2)
    regular = np.abs(np.linalg.det(matrices)) > DEGENERATE_DET
    if not regular.any():
        return undecided
    inverse = np.linalg.inv(matrices[regular])
    homogeneous = np.column_stack([points[:, 1:], np.ones(len(points))])
    bary = np.einsum("qi,fij->qfj", homogeneous, inverse)
    inside = bary.min(axis=2) >= -BARY_TOL
    facet = np.argmax(inside, axis=1)
    rows = np.arange(len(points))
    hull_energy = np.einsum("qj,qj->q", bary[rows, facet], vertex_energy[facets[regular]][facet])
    return inside.any(axis=1) & (formation - hull_energy > ON_HULL_TOL)


def update_hulls(
    state: HullResult, entries_by_key: Mapping[int, PhaseEntry], new_entries: Sequence[PhaseEntry]
) -> HullResult:
    """New full state after ``new_entries`` join a state built by ``compute_hulls``.

    ``entries_by_key``: every entry of ``state`` (new ones may be included too). Only
    systems whose inputs change are recomputed; the result equals ``compute_hulls`` over
    all entries exactly. Raises ``ValueError`` for invalid entries or keys already present.
    """
    with gc_paused():
        return _update_hulls(state, entries_by_key, list(new_entries))


def _update_hulls(
    state: HullResult, entries_by_key: Mapping[int, PhaseEntry], new_entries: list[PhaseEntry]
) -> HullResult:
    for entry in new_entries:
        check_entry(entry)
        if entry.key in state.thermo:
            raise ValueError(f"entry {entry.key}: already in the hull state")
    new_by_system = group_by_system(new_entries)
    lookup = _EntryLookup(entries_by_key, new_entries)
    inputs = _SystemInputs(state, lookup, new_by_system)

    old_refs = current_references(state.hulls, entries_by_key)
    refs = updated_references(old_refs, new_entries)
    index = _superset_index(state, inputs)
    pending = set(new_by_system)
    # systems with a changed elemental reference: every point moved, their old hulls are void
    moved: set[str] = set()
    for element, ref in refs.items():
        if old_refs.get(element) != ref:
            moved |= index.containing(element)
    pending |= moved

    thermo = dict(state.thermo)
    hulls = dict(state.hulls)
    computed = dict(state.inputs)
    stable_points: dict[str, StablePoints] = {}  # of recomputed systems
    heap = [(system_order(cs), cs) for cs in pending]
    heapq.heapify(heap)
    while heap:
        _, chemsys = heapq.heappop(heap)
        own = inputs.entries(chemsys)
        below = []
        for sub in proper_subsystems(chemsys):
            if sub in inputs.systems:
                if sub not in stable_points:  # not recomputed: unchanged, its refs too
                    stable_points[sub] = inputs.stable(sub, refs)
                below.append(stable_points[sub])
        known = None
        if chemsys in state.hulls and chemsys not in moved:
            known = KnownHull(state.hulls[chemsys].facets, inputs.points(chemsys))
        outcome = compute_one(chemsys, own, refs, below, known, inputs.table(chemsys))
        before = inputs.own_stable_keys(chemsys)
        stable_points[chemsys] = outcome.own_stable
        hulls[chemsys] = outcome.hull
        thermo.update(outcome.thermo)
        computed[chemsys] = (own, outcome.own_stable, outcome.points, outcome.table)
        if outcome.own_stable.keys.tolist() != before:
            supersets = index.supersets(chemsys)
            for superset in supersets - pending:
                pending.add(superset)
                heapq.heappush(heap, (system_order(superset), superset))
    if not inputs.cached:
        return HullResult(thermo=thermo, hulls=hulls)
    return HullResult(thermo=thermo, hulls=hulls, inputs=computed, derived={"superset_index": index})


def _superset_index(state: HullResult, inputs: _SystemInputs) -> SupersetIndex:
    """The index of every system of the update: the state's (made once per state and kept) plus the new ones."""
    if not inputs.cached:
        return SupersetIndex(inputs.systems)
    index = state.derived.get("superset_index")
    if not isinstance(index, SupersetIndex) or index.systems != state.hulls.keys():
        index = state.derived["superset_index"] = SupersetIndex(state.hulls)
    return index.with_systems(inputs.systems)


class _SystemInputs:
    """Each system's parsed entries and stored stable points: from the state's cache where it
    has one for every system (a state made by ``compute_hulls`` or ``update_hulls``), else
    parsed again from the entries."""

    def __init__(
        self, state: HullResult, lookup: Mapping[int, PhaseEntry], new_by_system: Mapping[str, SystemEntries]
    ) -> None:
        self._state, self._lookup, self._new = state, lookup, new_by_system
        self.cached = bool(state.inputs) and state.inputs.keys() == state.hulls.keys()
        self._keys: dict[str, list[int]] = {}  # keys by system, where the state has no cache
        if self.cached:
            self.systems = set(state.hulls) | set(new_by_system)
        else:
            for key, thermo in state.thermo.items():
                self._keys.setdefault(thermo.chemsys, []).append(key)
            for chemsys, own in new_by_system.items():
                self._keys.setdefault(chemsys, []).extend(int(k) for k in own.keys)
            self.systems = set(self._keys)

    def entries(self, chemsys: str) -> SystemEntries:
        new = self._new.get(chemsys)
        if not self.cached:
            return group_by_system(self._lookup[k] for k in self._keys[chemsys])[chemsys]
        if chemsys not in self._state.inputs:
            return new
        old = self._state.inputs[chemsys][0]
        return old if new is None else merge_system_entries(old, new)

    def points(self, chemsys: str) -> HullPoints | None:
        """The points of the earlier hull of ``chemsys``, where the state kept them."""
        return self._state.inputs[chemsys][2] if self.cached else None

    def table(self, chemsys: str) -> RowTable | None:
        """The rows of ``chemsys``'s own entries in the state, where it kept them."""
        if self.cached and chemsys in self._state.inputs:
            return self._state.inputs[chemsys][3]
        return None

    def own_stable_keys(self, chemsys: str) -> list[int]:
        """Keys of the stable entries whose own system is ``chemsys``, before the update."""
        if self.cached and chemsys in self._state.inputs:
            return self._state.inputs[chemsys][1].keys.tolist()
        return list(_own_stable_keys(chemsys, self._state))

    def stable(self, chemsys: str, refs: Mapping[str, Reference]) -> StablePoints:
        if self.cached:
            return self._state.inputs[chemsys][1]
        keys = _own_stable_keys(chemsys, self._state)
        return stable_points_of(chemsys, [self._lookup[k] for k in keys], refs)


@functools.lru_cache(maxsize=1 << 16)
def proper_subsystems(chemsys: str) -> tuple[str, ...]:
    """``subsystems(chemsys, proper=True)``, kept for the systems an update meets again and again."""
    return tuple(subsystems(chemsys, proper=True))


def _own_stable_keys(chemsys: str, state: HullResult) -> tuple[int, ...]:
    system_hull = state.hulls.get(chemsys)
    if system_hull is None:
        return ()
    return tuple(k for k in system_hull.stable_keys if state.thermo[k].chemsys == chemsys)


class _EntryLookup(Mapping[int, PhaseEntry]):
    """Existing entries overlaid with the new ones."""

    def __init__(self, existing: Mapping[int, PhaseEntry], new_entries: Sequence[PhaseEntry]) -> None:
        self._existing = existing
        self._new = {entry.key: entry for entry in new_entries}

    def __getitem__(self, key: int) -> PhaseEntry:
        return self._new[key] if key in self._new else self._existing[key]

    def __iter__(self):
        yield from self._new
        yield from (k for k in self._existing if k not in self._new)

    def __len__(self) -> int:
        return len(self._new) + sum(1 for k in self._existing if k not in self._new)


__all__ = ["systems_to_update", "update_hulls"]
