"""Hull and thermo of one chemical system, from its own entries and its subsystems' stable points.

By the face property of convex hulls, the lower hull of a system restricted to the
composition face of a subsystem is the subsystem's own lower hull. So a system's hull is
the lower hull of (a) its own candidate points and (b) the stable points already found
for its proper subsystems; entries of subsystems that are not stable there can never be
stable here. Every system is therefore computed once, bottom-up, and its result depends
only on its own entries, the stable points of its subsystems and the elemental
references — which is what makes incremental updates reproduce a full build exactly.

Candidates follow pymatgen's ``PhaseDiagram`` conventions: per reduced composition only
the lowest-energy entry (ties: smallest key) enters the hull, and only if its formation
energy is below ``-FORMATION_TOL``; the elemental references are the corners.

Decomposition energy (Merchant et al., "Scaling deep learning for materials discovery",
Nature 624, 80 (2023); Bartel et al., npj Comput. Mater. 6, 97 (2020)): for an entry
whose reduced composition is a stable vertex of a multi-element system, the energy
relative to the hull built without any entry of that composition (<= 0 for the stable
entry itself); for elements and all other entries, the energy above the hull.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial import QhullError

from hull.engine_geometry import (
    BARY_TOL,
    DEGENERATE_DET,
    MAX_SUBSETS,
    LowerHull,
    build_lower_hull,
    hull_energies,
    hull_from_simplices,
    hull_vertex_mask,
    locate,
    strictly_above_facets,
)
from hull.engine_geometry import (
    subsets as _subsets,
)
from hull.engine_types import EntryThermo, SystemHull

FORMATION_TOL = 1e-11
"""Entries must lie this far below the elemental references to enter the hull (as pymatgen)."""
AMOUNT_TOL = 1e-8
"""Decomposition amounts at or below this are dropped (as pymatgen's ``numerical_tol``)."""
COMPOSITION_DECIMALS = 9
"""Atom fractions are rounded to this many decimals to decide that two entries are polymorphs."""
ON_HULL_TOL = 1e-9
"""An entry within this energy (eV/atom) of the hull is treated as lying on it."""
REUSE_MARGIN = 1e-9
"""Incremental updates reuse a system's facets only if all points clear them by this (eV/atom)."""


@dataclass(frozen=True, slots=True)
class SystemEntries:
    """The entries whose chemical system is exactly this one, sorted by key."""

    elements: tuple[str, ...]
    keys: np.ndarray  # (m,) int64
    fractions: np.ndarray  # (m, n) atom fractions in ``elements`` order
    energies: np.ndarray  # (m,) eV/atom


@dataclass(frozen=True, slots=True)
class StablePoints:
    """Stable entries whose own chemical system is this one (reused by every superset)."""

    elements: tuple[str, ...]
    keys: np.ndarray
    fractions: np.ndarray
    formation: np.ndarray


@dataclass(frozen=True, slots=True)
class SystemOutcome:
    hull: SystemHull
    thermo: dict[int, EntryThermo]
    own_stable: StablePoints


def formation_energies(fractions: np.ndarray, energies: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """E_f = E - sum_i x_i E_i(ref), summed column by column so every row is bit-reproducible."""
    total = np.zeros(len(energies))
    for column in range(fractions.shape[1]):
        total = total + fractions[:, column] * refs[column]
    return energies - total


def composition_groups(fractions: np.ndarray) -> tuple[np.ndarray, int]:
    """Group rows by reduced composition: (group index of each row, number of groups)."""
    rounded = np.round(fractions, COMPOSITION_DECIMALS)
    order = np.lexsort(rounded.T[::-1])
    ordered = rounded[order]
    new_group = np.ones(len(order), dtype=bool)
    new_group[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    group = np.empty(len(order), dtype=np.int64)
    group[order] = np.cumsum(new_group) - 1
    return group, int(new_group.sum())


def group_minima(group: np.ndarray, n_groups: int, energies: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row index of the lowest-energy entry of each group (ties: smallest key)."""
    order = np.lexsort((keys, energies, group))
    first_of_group = np.ones(len(order), dtype=bool)
    first_of_group[1:] = group[order][1:] != group[order][:-1]
    minima = np.empty(n_groups, dtype=np.int64)
    minima[group[order][first_of_group]] = order[first_of_group]
    return minima


def missing_outcome(chemsys: str, own: SystemEntries, missing: tuple[str, ...]) -> SystemOutcome:
    """A system with an element lacking any elemental reference: flagged, no numbers."""
    thermo = {
        int(key): EntryThermo(
            key=int(key),
            chemsys=chemsys,
            formation_energy_per_atom=None,
            e_above_hull=None,
            decomposition=None,
            decomposition_energy=None,
            is_stable=None,
            missing_elements=tuple(el for el in missing if el in own.elements),
        )
        for key in own.keys
    }
    hull = SystemHull(chemsys, own.elements, (), (), missing)
    empty = StablePoints(own.elements, np.zeros(0, np.int64), np.zeros((0, len(own.elements))), np.zeros(0))
    return SystemOutcome(hull, thermo, empty)


def compute_system(
    chemsys: str,
    own: SystemEntries,
    refs: np.ndarray,
    below: list[StablePoints],
    known_facets: tuple[tuple[int, ...], ...] | None = None,
) -> SystemOutcome:
    """Hull of ``chemsys`` and thermo of its own entries.

    ``refs`` are the reference energies per atom of ``own.elements``; ``below`` the
    stable points of every proper subsystem that has entries, in bottom-up order.
    ``known_facets`` (keys) from an earlier state are reused instead of calling qhull when
    they are provably what qhull would return now (see ``_reusable_simplices``).
    """
    n = len(own.elements)
    formation = formation_energies(own.fractions, own.energies, refs)
    group, n_groups = composition_groups(own.fractions)
    minima = group_minima(group, n_groups, own.energies, own.keys)
    if n == 1:
        return _unary_outcome(chemsys, own, formation, minima)

    candidate_rows = np.sort(minima[formation[minima] < -FORMATION_TOL])
    below = [points for points in below if len(points.keys)]
    keys = np.concatenate([points.keys for points in below] + [own.keys[candidate_rows]])
    point_energy = np.concatenate([points.formation for points in below] + [formation[candidate_rows]])
    fractions = _embed(below, own.elements, len(keys))
    n_below = len(keys) - len(candidate_rows)
    fractions[n_below:] = own.fractions[candidate_rows]

    simplices = (
        None if known_facets is None else _reusable_simplices(known_facets, keys, fractions, point_energy)
    )
    hull = build_lower_hull(fractions[:, 1:], point_energy, simplices)
    vertex = hull_vertex_mask(hull, len(keys))
    own_vertex = vertex[n_below:]
    stable_rows = candidate_rows[own_vertex]
    stable_group = np.full(n_groups, -1, dtype=np.int64)
    stable_group[group[stable_rows]] = stable_rows

    facet, bary = locate(hull, own.fractions[:, 1:])
    hull_energy = hull_energies(hull, facet, bary)
    on_stable = stable_group[group] >= 0
    hull_energy[on_stable] = formation[stable_group[group[on_stable]]]
    e_above = np.maximum(formation - hull_energy, 0.0)

    gnome = e_above.copy()
    separations = _separations(
        own, group, candidate_rows, keys, fractions, point_energy, hull, facet, e_above, stable_rows
    )
    for row, separation in zip(stable_rows.tolist(), separations, strict=True):
        members = group == group[row]
        gnome[members] = formation[members] - separation

    facet_keys = keys[hull.vertices]
    own_keys = own.keys.tolist()
    stable_of_row = stable_group[group].tolist()
    e_above[stable_rows] = 0.0
    rows = zip(
        own_keys,
        stable_of_row,
        facet_keys[facet].tolist(),
        bary.tolist(),
        formation.tolist(),
        e_above.tolist(),
        gnome.tolist(),
        strict=True,
    )
    thermo: dict[int, EntryThermo] = {}
    for row, (key, stable_row, vertex_keys, amounts, form, above, gnome_energy) in enumerate(rows):
        if stable_row >= 0:
            decomposition = {own_keys[stable_row]: 1.0}
        else:
            decomposition = {k: a for k, a in zip(vertex_keys, amounts, strict=True) if abs(a) > AMOUNT_TOL}
        thermo[key] = EntryThermo(
            key, chemsys, form, above, decomposition, gnome_energy, stable_row == row, ()
        )
    sorted_facets = np.sort(facet_keys, axis=1)
    sorted_facets = sorted_facets[np.lexsort(sorted_facets.T[::-1])]
    system_hull = SystemHull(
        chemsys=chemsys,
        elements=own.elements,
        stable_keys=tuple(np.sort(keys[vertex]).tolist()),
        facets=tuple(map(tuple, sorted_facets.tolist())),
        missing_elements=(),
    )
    stable_points = StablePoints(
        own.elements, own.keys[stable_rows], own.fractions[stable_rows], formation[stable_rows]
    )
    return SystemOutcome(system_hull, thermo, stable_points)


def _reusable_simplices(
    known_facets: tuple[tuple[int, ...], ...], keys: np.ndarray, fractions: np.ndarray, energies: np.ndarray
) -> np.ndarray | None:
    """Earlier facets as canonical simplices of the current points, or None if qhull must run.

    Reusable when every facet vertex is still a point and every point lies more than
    ``REUSE_MARGIN`` above every facet it is not a vertex of: the lower hull is then
    strictly convex, so its triangulation is unique and qhull would return exactly it.
    """
    index_of = {int(k): i for i, k in enumerate(keys)}
    if not known_facets or any(k not in index_of for facet in known_facets for k in facet):
        return None
    simplices = np.array([[index_of[k] for k in facet] for facet in known_facets], dtype=np.int64)
    simplices.sort(axis=1)
    simplices = simplices[np.lexsort(simplices.T[::-1])]
    hull = hull_from_simplices(fractions[:, 1:], energies, simplices)
    return simplices if strictly_above_facets(hull, fractions[:, 1:], energies, REUSE_MARGIN) else None


def _embed(below: list[StablePoints], elements: tuple[str, ...], size: int) -> np.ndarray:
    """Subsystems' atom fractions in the enclosing system's columns, zero-padded to ``size`` rows."""
    column = {el: i for i, el in enumerate(elements)}
    out = np.zeros((size, len(elements)))
    start = 0
    for points in below:
        stop = start + len(points.keys)
        out[start:stop, [column[el] for el in points.elements]] = points.fractions
        start = stop
    return out


def _separations(
    own: SystemEntries,
    group: np.ndarray,
    candidate_rows: np.ndarray,
    keys: np.ndarray,
    fractions: np.ndarray,
    point_energy: np.ndarray,
    hull: LowerHull,
    facet: np.ndarray,
    e_above: np.ndarray,
    stable_rows: np.ndarray,
) -> list[float]:
    """For each stable row, the hull formation energy at its composition without that composition.

    Only points that can lie on the hull without the removed vertex are admissible: the
    subsystems' points, the other vertices, and own candidates whose facet touches the
    vertex or that lie on the hull (anything else is above a facet that survives the
    removal). The hull near the removed vertex is first taken from its neighbourhood
    alone (its link plus the candidates under its star), by enumerating the simplices of
    those few points for all stable rows at once; the result is accepted when the plane of
    the lowest simplex lies below every admissible point (then it supports the full hull
    too). Otherwise that vertex falls back to qhull, on the neighbourhood and then on the
    whole admissible set.
    """
    if not len(stable_rows):
        return []
    n_points = len(keys)
    n_below = n_points - len(candidate_rows)
    n = fractions.shape[1]
    candidate_index = np.searchsorted(candidate_rows, stable_rows)
    removed = n_below + candidate_index  # point index of each stable row
    facet_has = (hull.vertices[None, :, :] == removed[:, None, None]).any(axis=2)  # (V, F)
    incidence = np.zeros((len(hull.vertices), n_points), dtype=bool)
    np.put_along_axis(incidence, hull.vertices, True, axis=1)
    star_points = (facet_has.astype(np.int64) @ incidence) > 0  # (V, P)
    touches = facet_has[:, facet[candidate_rows]]  # (V, C): candidate located in the removed star
    other = np.ones((len(stable_rows), n_points), dtype=bool)
    other[:, n_below:] = group[candidate_rows][None, :] != group[stable_rows][:, None]
    own_vertex = hull_vertex_mask(hull, n_points)[n_below:]
    admissible = other.copy()
    admissible[:, n_below:] &= own_vertex | touches | (e_above[candidate_rows] <= ON_HULL_TOL)
    local = star_points
    local[:, n_below:] |= touches
    local &= other
    coords = fractions[:, 1:]
    where = own.fractions[stable_rows, 1:]

    # enumerate the simplices of every vertex's neighbourhood in one batch
    owners, subsets = [], []
    for v, mask in enumerate(local):
        members = np.flatnonzero(mask)
        if len(members) >= n and math.comb(len(members), n) <= MAX_SUBSETS:
            chosen = members[_subsets(len(members), n)]
            subsets.append(chosen)
            owners.append(np.full(len(chosen), v))
    result: list[float | None] = [None] * len(stable_rows)
    if subsets:
        subsets_all = np.concatenate(subsets)
        owner = np.concatenate(owners)
        matrices = np.concatenate([coords[subsets_all], np.ones((len(subsets_all), n, 1))], axis=2)
        regular = np.abs(np.linalg.det(matrices)) > DEGENERATE_DET
        subsets_all, owner, matrices = subsets_all[regular], owner[regular], matrices[regular]
        target = np.column_stack([where, np.ones(len(where))])[owner]
        weights = np.linalg.solve(np.swapaxes(matrices, 1, 2), target[..., None])[..., 0]
        values = np.einsum("sj,sj->s", weights, point_energy[subsets_all])
        values[weights.min(axis=1) < -BARY_TOL] = np.inf
        order = np.lexsort((values, owner))
        first = np.ones(len(order), dtype=bool)
        first[1:] = owner[order][1:] != owner[order][:-1]
        best = order[first]
        best = best[np.isfinite(values[best])]
        if len(best):
            planes = np.linalg.solve(matrices[best], point_energy[subsets_all[best]][..., None])[..., 0]
            heights = point_energy[None, :] - (planes[:, :-1] @ coords.T + planes[:, -1:])
            heights[~admissible[owner[best]]] = np.inf
            supported = heights.min(axis=1) >= -ON_HULL_TOL
            for v, value in zip(
                owner[best][supported].tolist(), values[best][supported].tolist(), strict=True
            ):
                result[v] = value
    for v, value in enumerate(result):
        if value is None:
            result[v] = _separation_by_qhull(coords, point_energy, local[v], admissible[v], where[v])
    return result


def _separation_by_qhull(
    coords: np.ndarray, energies: np.ndarray, local: np.ndarray, admissible: np.ndarray, where: np.ndarray
) -> float:
    """Hull energy at ``where`` from the neighbourhood's qhull if it supports the admissible points, else from all."""
    target = where[None, :]
    try:
        reduced = build_lower_hull(coords[local], energies[local])
        sub_facet, bary = locate(reduced, target)
        plane = reduced.planes[sub_facet[0]]
        below_plane = energies[admissible] - (coords[admissible] @ plane[:-1] + plane[-1])
        if bary.min() >= -BARY_TOL and below_plane.min() >= -ON_HULL_TOL:
            return float(hull_energies(reduced, sub_facet, bary)[0])
    except (ValueError, IndexError, np.linalg.LinAlgError, QhullError):
        pass
    reduced = build_lower_hull(coords[admissible], energies[admissible])
    sub_facet, bary = locate(reduced, target)
    return float(hull_energies(reduced, sub_facet, bary)[0])


def _unary_outcome(
    chemsys: str, own: SystemEntries, formation: np.ndarray, minima: np.ndarray
) -> SystemOutcome:
    """An element: the reference is the lowest-energy entry; the others lie above it."""
    ref_row = int(minima[0])
    ref_key = int(own.keys[ref_row])
    thermo = {}
    for row, key in enumerate(own.keys):
        stable = row == ref_row
        e_above = 0.0 if stable else max(float(formation[row]), 0.0)
        thermo[int(key)] = EntryThermo(
            key=int(key),
            chemsys=chemsys,
            formation_energy_per_atom=float(formation[row]),
            e_above_hull=e_above,
            decomposition={ref_key: 1.0},
            decomposition_energy=e_above,
            is_stable=stable,
            missing_elements=(),
        )
    hull = SystemHull(chemsys, own.elements, (ref_key,), ((ref_key,),), ())
    stable_points = StablePoints(
        own.elements, own.keys[[ref_row]], own.fractions[[ref_row]], formation[[ref_row]]
    )
    return SystemOutcome(hull, thermo, stable_points)


__all__ = ["BARY_TOL", "SystemEntries", "StablePoints", "SystemOutcome", "compute_system", "missing_outcome"]
