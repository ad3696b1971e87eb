"""Whole builds: parse entries once, find elemental references, compute systems bottom-up."""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterable, Mapping

import numpy as np

from hull.engine.system import (
    KnownHull,
    RowTable,
    StablePoints,
    SystemEntries,
    SystemOutcome,
    composition_groups,
    compute_system,
    formation_energies,
    missing_outcome,
)
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

Reference = tuple[float, int]
"""An elemental reference as (energy per atom, key): the minimum of these over unary entries."""


def parse_entry(entry: PhaseEntry) -> tuple[str, tuple[str, ...], tuple[float, ...]]:
    """Chemical system, sorted elements and atom fractions of one entry."""
    elements = tuple(sorted(entry.composition))
    amounts = [float(entry.composition[el]) for el in elements]
    total = sum(amounts)
    return "-".join(elements), elements, tuple([a / total for a in amounts])


def group_by_system(entries: Iterable[PhaseEntry]) -> dict[str, SystemEntries]:
    """Entries grouped by their own chemical system, each group sorted by key.

    Raises ``ValueError`` naming the key for invalid energies/compositions or repeated keys.
    """
    rows: dict[str, list[tuple[int, tuple[float, ...], float]]] = {}
    elements_of: dict[str, tuple[str, ...]] = {}
    seen: set[int] = set()
    for entry in entries:
        if type(entry) is not PhaseEntry:  # PhaseEntry checks itself on construction
            check_entry(entry)
        key = int(entry.key)
        if key in seen:
            raise ValueError(f"entry {key}: key given twice")
        seen.add(key)
        chemsys, elements, fractions = parse_entry(entry)
        group = rows.get(chemsys)
        if group is None:
            group = rows[chemsys] = []
            elements_of[chemsys] = elements
        group.append((key, fractions, float(entry.energy_per_atom)))
    return {chemsys: _system_entries(elements_of[chemsys], group) for chemsys, group in rows.items()}


def _system_entries(
    elements: tuple[str, ...], rows: list[tuple[int, tuple[float, ...], float]]
) -> SystemEntries:
    rows.sort()  # by key: keys are unique
    keys = np.array([row[0] for row in rows], dtype=np.int64)
    fractions = np.array([row[1] for row in rows], dtype=np.float64).reshape(len(rows), len(elements))
    energies = np.array([row[2] for row in rows], dtype=np.float64)
    group, n_groups = composition_groups(fractions)
    return SystemEntries(elements, keys, fractions, energies, group, n_groups)


def merge_system_entries(old: SystemEntries, new: SystemEntries) -> SystemEntries:
    """One system's entries with new ones joined, exactly as ``group_by_system`` would parse them all."""
    keys = np.concatenate([old.keys, new.keys])
    order = np.argsort(keys, kind="stable")
    fractions = np.concatenate([old.fractions, new.fractions])[order]
    group, n_groups = composition_groups(fractions)
    energies = np.concatenate([old.energies, new.energies])[order]
    return SystemEntries(old.elements, keys[order], fractions, energies, group, n_groups)


def elemental_references(by_system: Mapping[str, SystemEntries]) -> dict[str, Reference]:
    """Lowest (energy per atom, key) among the unary entries of each element."""
    refs: dict[str, Reference] = {}
    for chemsys, own in by_system.items():
        if len(own.elements) == 1:
            row = int(np.lexsort((own.keys, own.energies))[0])
            refs[chemsys] = (float(own.energies[row]), int(own.keys[row]))
    return refs


def compute_one(
    chemsys: str,
    own: SystemEntries,
    refs: Mapping[str, Reference],
    below: list[StablePoints],
    known: KnownHull | None = None,
    earlier: RowTable | None = None,
) -> SystemOutcome:
    """Compute one system from its entries, the references and ``below``, the stable points of its
    proper subsystems in bottom-up order (as ``stable_below`` gathers them); ``compute_system``
    says what ``known`` and ``earlier`` save."""
    missing = tuple(el for el in own.elements if el not in refs)
    if missing:
        return missing_outcome(chemsys, own, missing)
    ref_energies = np.array([refs[el][0] for el in own.elements])
    return compute_system(chemsys, own, ref_energies, below, known, earlier)


def stable_below(chemsys: str, stable: Mapping[str, StablePoints]) -> list[StablePoints]:
    """The stable points of each proper subsystem of ``chemsys`` found in ``stable``, bottom-up."""
    return [stable[sub] for sub in subsystems(chemsys, proper=True) if sub in stable]


def stable_points_of(
    chemsys: str, entries: Iterable[PhaseEntry], refs: Mapping[str, Reference]
) -> StablePoints:
    """Rebuild a system's own stable points from those entries (bit-identical to the build's)."""
    elements = tuple(sorted(chemsys.split("-")))
    grouped = group_by_system(entries).get(chemsys)
    if grouped is None or any(el not in refs for el in elements):
        return StablePoints(elements, np.zeros(0, np.int64), np.zeros((0, len(elements))), np.zeros(0))
    ref_energies = np.array([refs[el][0] for el in elements])
    formation = formation_energies(grouped.fractions, grouped.energies, ref_energies)
    return StablePoints(elements, grouped.keys, grouped.fractions, formation)


def needed_systems(by_system: Mapping[str, SystemEntries], systems: Iterable[str] | None) -> list[str]:
    """Systems to compute, bottom-up: the requested ones and their subsystems that have entries."""
    if systems is None:
        return sorted(by_system, key=system_order)
    needed: set[str] = set()
    for chemsys in systems:
        canonical = "-".join(sorted(set(chemsys.split("-"))))
        needed.update(sub for sub in subsystems(canonical) if sub in by_system)
    return sorted(needed, key=system_order)


def compute_hulls(
    entries: Iterable[PhaseEntry], *, systems: Iterable[str] | None = None, workers: int = 1
) -> HullResult:
    """Hulls and thermo of a catalogue, each chemical system computed once, bottom-up.

    With ``systems=None`` every entry's thermo and every chemical system's hull. With
    ``systems`` given, thermo only for entries whose own chemical system is listed and
    hulls only for those systems; every given entry still competes (pass all entries of
    the subsystems). Raises ``ValueError`` naming the key for NaN/infinite energies.

    ``workers > 1`` computes the systems of each size in that many forked processes
    (systems of equal size are independent); the result is identical. Keep the default
    inside daemonic processes such as Celery's prefork workers, which cannot fork.
    """
    with gc_paused():
        return _compute_hulls(entries, systems, workers)


def _compute_hulls(entries: Iterable[PhaseEntry], systems: Iterable[str] | None, workers: int) -> HullResult:
    by_system = group_by_system(entries)
    requested = None if systems is None else {"-".join(sorted(set(cs.split("-")))) for cs in systems}
    refs = elemental_references(by_system)
    stable: dict[str, StablePoints] = {}
    result = HullResult(thermo={}, hulls={})

    def keep(chemsys: str, outcome: SystemOutcome) -> None:
        stable[chemsys] = outcome.own_stable
        if requested is None or chemsys in requested:
            result.thermo.update(outcome.thermo)
            result.hulls[chemsys] = outcome.hull
            result.inputs[chemsys] = (by_system[chemsys], outcome.own_stable, outcome.points, outcome.table)

    order = needed_systems(by_system, requested)
    if workers <= 1:
        for chemsys in order:
            keep(chemsys, compute_one(chemsys, by_system[chemsys], refs, stable_below(chemsys, stable)))
        return result
    context = multiprocessing.get_context("fork")
    for _, level in itertools.groupby(order, key=lambda cs: cs.count("-")):
        batch = list(level)
        if len(batch) < 2 * workers:
            for chemsys in batch:
                keep(chemsys, compute_one(chemsys, by_system[chemsys], refs, stable_below(chemsys, stable)))
            continue
        # forked per level: the children inherit every input (and the subsystems' results
        # so far) by copy-on-write, so only chemical-system names travel to them
        _SHARED.update(by_system=by_system, refs=refs, stable=stable)
        n_chunks = min(len(batch), 8 * workers)
        chunks = [batch[i::n_chunks] for i in range(n_chunks)]
        try:
            with context.Pool(workers) as pool:
                for chunk, packed in zip(chunks, pool.imap(_compute_chunk, chunks), strict=True):
                    for chemsys, one in zip(chunk, packed, strict=True):
                        keep(chemsys, _unpack(one))
        finally:
            _SHARED.clear()
    return result


_SHARED: dict = {}
"""Inputs of the forked workers of one level of ``compute_hulls`` (set just before the fork)."""


def _compute_chunk(chunk: list[str]) -> list[tuple]:
    """Worker side: compute systems of one level and return them as plain tuples (cheap to unpickle)."""
    by_system, refs, stable = _SHARED["by_system"], _SHARED["refs"], _SHARED["stable"]
    packed = []
    for chemsys in chunk:
        outcome = compute_one(chemsys, by_system[chemsys], refs, stable_below(chemsys, stable))
        thermo = [tuple(t) for t in outcome.thermo.values()]
        hull = tuple(getattr(outcome.hull, f) for f in SystemHull.__slots__)
        packed.append((hull, thermo, outcome.own_stable, outcome.points, outcome.table))
    return packed


def _unpack(packed: tuple) -> SystemOutcome:
    hull, thermo, own_stable, points, table = packed
    return SystemOutcome(
        SystemHull(*hull), {t[0]: EntryThermo(*t) for t in thermo}, own_stable, points, table
    )
