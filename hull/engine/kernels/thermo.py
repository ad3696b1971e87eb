"""What a system's own entries need from its lower hull, in compiled kernels: stable rows, decompositions,
energies above hull and GNoME decomposition energies (the hull without each stable composition).

The decomposition energy is that of Merchant et al., Nature 624, 80 (2023): for a stable composition, the
hull energy there once every entry of that composition is removed. ``separations`` finds it from the
removed vertex's neighbourhood where that is provably enough; the caller completes the rest.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from hull.engine.kernels.algebra import (
    LowerHull,
    barycentric,
    canonical_rows,
    fill_matrix,
    invert,
    locate_rows,
    simplex_plane,
)
from hull.engine.kernels.inputs import SystemPoints, SystemRows
from hull.engine.kernels.rows import RowTable, changed_rows, row_table


class Separations(NamedTuple):
    """``separations``' result, one row per stable row."""

    values: np.ndarray  # hull energy without the stable composition; NaN where not decided
    local: np.ndarray  # (v, p) bool: the points of the removed vertex's neighbourhood
    admissible: np.ndarray  # (v, p) bool: the points that can lie on the hull without it


class SystemThermo(NamedTuple):
    """Everything a system's own entries need from its lower hull (``system_thermo``)."""

    stable_rows: np.ndarray  # own candidates that are hull vertices
    stable_of_row: np.ndarray  # each row's stable polymorph (-1: none)
    decomposition_keys: np.ndarray  # (m, n) facet vertex keys of each row's decomposition
    bary: np.ndarray  # (m, n) their barycentric amounts
    e_above: np.ndarray  # (m,) energies above hull
    gnome: np.ndarray  # (m,) GNoME decomposition energies (complete only where ``values`` has no NaN)
    values: np.ndarray  # ``Separations.values``
    local: np.ndarray  # ``Separations.local``
    admissible: np.ndarray  # ``Separations.admissible``
    where: np.ndarray  # (v, n - 1) the stable rows' compositions
    sorted_facets: np.ndarray  # the canonical facets as keys
    stable_keys: np.ndarray  # sorted keys of every hull vertex


class ThermoRows(NamedTuple):
    """``thermo_rows``' result: ``table`` and ``changed`` are empty where ``complete`` is False."""

    thermo: SystemThermo
    complete: bool  # every GNoME energy decided
    table: RowTable
    changed: np.ndarray  # rows of ``table`` that differ from the earlier table


@njit(cache=True)
def separations(
    group: np.ndarray,
    points: SystemPoints,
    vertices: np.ndarray,
    facet: np.ndarray,
    e_above: np.ndarray,
    stable_rows: np.ndarray,
    where: np.ndarray,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
) -> Separations:
    """Hull energy at each stable row's composition without that composition (GNoME).

    Only points that can lie on the hull without the removed vertex are admissible: the
    subsystems' points, the other vertices, and own candidates whose facet touches the
    vertex or that lie on the hull (anything else is above a facet that survives the
    removal). The hull near the removed vertex is first taken from its neighbourhood
    alone (its link plus the candidates under its star), by enumerating the simplices of
    those few points; the result is accepted when the plane of the lowest simplex lies
    below every admissible point (then it supports the full hull too). Values are NaN where
    the enumeration could not decide (the caller falls back to qhull with the ``local`` and
    ``admissible`` point masks).
    """
    candidate_rows, coords, energies = points.candidate_rows, points.coords, points.energies
    n_points = len(energies)
    n_below = n_points - len(candidate_rows)
    count, n = vertices.shape
    n_stable = len(stable_rows)
    values = np.full(n_stable, np.nan)
    local = np.zeros((n_stable, n_points), dtype=np.bool_)
    admissible = np.zeros((n_stable, n_points), dtype=np.bool_)
    vertex = np.zeros(n_points, dtype=np.bool_)
    for f in range(count):
        for i in range(n):
            vertex[vertices[f, i]] = True
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    weights = np.empty(n)
    target = np.empty(n)
    for v in range(n_stable):
        row = stable_rows[v]
        removed = n_below + np.searchsorted(candidate_rows, row)
        has = np.zeros(count, dtype=np.bool_)
        for f in range(count):
            for i in range(n):
                if vertices[f, i] == removed:
                    has[f] = True
        for f in range(count):
            if has[f]:
                for i in range(n):
                    local[v, vertices[f, i]] = True
        for p in range(n_points):
            other = p < n_below or group[candidate_rows[p - n_below]] != group[row]
            if p >= n_below:
                c = p - n_below
                touches = has[facet[candidate_rows[c]]]
                if touches:
                    local[v, p] = True
                admissible[v, p] = other and (
                    vertex[p] or touches or e_above[candidate_rows[c]] <= on_hull_tol
                )
            else:
                admissible[v, p] = other
            local[v, p] = local[v, p] and other
        members = np.flatnonzero(local[v])
        k = len(members)
        if k < n or _comb(k, n) > max_subsets:
            continue
        for j in range(n - 1):
            target[j] = where[v, j]
        target[n - 1] = 1.0
        best_value, best_subset = np.inf, np.empty(n, dtype=np.int64)
        chosen = np.empty(n, dtype=np.int64)
        subset = np.arange(n)
        while True:
            for i in range(n):
                chosen[i] = members[subset[i]]
            fill_matrix(coords, chosen, matrix)
            # barycentric weights of the target: w solves M^T w = t, so w = t @ inv(M)
            if abs(invert(matrix, inverse)) > det_tol and barycentric(target, inverse, weights) >= -bary_tol:
                value = 0.0
                for i in range(n):
                    value = value + weights[i] * energies[chosen[i]]
                if value < best_value:
                    best_value = value
                    best_subset[:] = chosen
            if not _next_subset(subset, k):
                break
        if not np.isfinite(best_value):
            continue
        plane = np.empty(n)
        simplex_plane(coords, energies, best_subset, plane)
        supported = True
        for p in range(n_points):
            if admissible[v, p]:
                height = energies[p] - plane[n - 1]
                for j in range(n - 1):
                    height = height - plane[j] * coords[p, j]
                if height < -on_hull_tol:
                    supported = False
                    break
        if supported:
            values[v] = best_value
    return Separations(values, local, admissible)


@njit(cache=True)
def _comb(k: int, n: int) -> int:
    total = 1
    for i in range(n):
        total = total * (k - i) // (i + 1)
    return total


@njit(cache=True)
def _next_subset(subset: np.ndarray, k: int) -> bool:
    """Advance ``subset`` (sorted indices into range(k)) to the next combination in lexicographic order."""
    n = len(subset)
    i = n - 1
    while i >= 0 and subset[i] == k - n + i:
        i -= 1
    if i < 0:
        return False
    subset[i] += 1
    for j in range(i + 1, n):
        subset[j] = subset[j - 1] + 1
    return True


@njit(cache=True)
def system_thermo(
    hull: LowerHull,
    points: SystemPoints,
    rows: SystemRows,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
) -> SystemThermo:
    """Everything a system's own entries (``rows``) need from the lower hull of its ``points``, in one call.

    Stable rows (own candidates that are hull vertices), each row's stable polymorph (-1:
    none), the facet vertex keys and barycentric amounts of each row's decomposition, the
    energies above hull, the GNoME decomposition energies (``separations``; where they
    could not be decided, ``values`` is NaN and the caller completes them with the
    ``local``/``admissible`` masks and ``where``), the canonical facets as keys and the
    sorted stable keys.
    """
    vertices = hull.vertices
    keys, candidate_rows, formation = points.keys, points.candidate_rows, points.formation
    own_fractions, group, n_groups = rows.fractions, rows.group, rows.n_groups
    m, n = own_fractions.shape
    n_points = len(keys)
    n_below = n_points - len(candidate_rows)
    vertex = np.zeros(n_points, dtype=np.bool_)
    for f in range(vertices.shape[0]):
        for i in range(n):
            vertex[vertices[f, i]] = True
    n_stable = 0
    for c in range(len(candidate_rows)):
        if vertex[n_below + c]:
            n_stable += 1
    stable_rows = np.empty(n_stable, dtype=np.int64)
    k = 0
    for c in range(len(candidate_rows)):
        if vertex[n_below + c]:
            stable_rows[k] = candidate_rows[c]
            k += 1
    stable_group = np.full(n_groups, -1, dtype=np.int64)
    for v in range(n_stable):
        stable_group[group[stable_rows[v]]] = stable_rows[v]
    own_coords = np.empty((m, n - 1))
    for r in range(m):
        for j in range(n - 1):
            own_coords[r, j] = own_fractions[r, j + 1]
    facet, bary, hull_energy = locate_rows(hull, own_coords, bary_tol)
    stable_of_row = np.empty(m, dtype=np.int64)
    e_above = np.empty(m)
    for r in range(m):
        stable_of_row[r] = stable_group[group[r]]
        if stable_of_row[r] >= 0:
            hull_energy[r] = formation[stable_of_row[r]]
        above = formation[r] - hull_energy[r]
        e_above[r] = above if above > 0.0 else 0.0
    gnome = e_above.copy()
    where = np.empty((n_stable, n - 1))
    for v in range(n_stable):
        for j in range(n - 1):
            where[v, j] = own_fractions[stable_rows[v], j + 1]
    if n_stable:
        values, local, admissible = separations(
            group,
            points,
            vertices,
            facet,
            e_above,
            stable_rows,
            where,
            max_subsets,
            det_tol,
            bary_tol,
            on_hull_tol,
        )
        for v in range(n_stable):
            if not np.isnan(values[v]):
                g = group[stable_rows[v]]
                for r in range(m):
                    if group[r] == g:
                        gnome[r] = formation[r] - values[v]
    else:
        values = np.zeros(0)
        local = np.zeros((0, n_points), dtype=np.bool_)
        admissible = np.zeros((0, n_points), dtype=np.bool_)
    for v in range(n_stable):
        e_above[stable_rows[v]] = 0.0
    facet_keys = np.empty(vertices.shape, dtype=np.int64)
    for f in range(vertices.shape[0]):
        for i in range(n):
            facet_keys[f, i] = keys[vertices[f, i]]
    decomposition_keys = np.empty((m, n), dtype=np.int64)
    for r in range(m):
        decomposition_keys[r] = facet_keys[facet[r]]
    stable_keys = np.sort(keys[vertex])
    return SystemThermo(
        stable_rows,
        stable_of_row,
        decomposition_keys,
        bary,
        e_above,
        gnome,
        values,
        local,
        admissible,
        where,
        canonical_rows(facet_keys),
        stable_keys,
    )


@njit(cache=True)
def thermo_rows(
    hull: LowerHull,
    points: SystemPoints,
    rows: SystemRows,
    earlier: RowTable,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
) -> ThermoRows:
    """``system_thermo``, then (when every GNoME energy was decided) ``row_table`` and the rows that
    changed since the ``earlier`` table (``changed_rows``; every row where it is empty), in one call.
    Where it is not complete (some ``values`` are NaN), the caller completes them and makes the table.
    ``hull``, ``points``, ``rows`` and ``earlier`` may come as plain tuples (see ``hull.engine.kernels``)."""
    hull, points, rows, earlier = (
        LowerHull(*hull),
        SystemPoints(*points),
        SystemRows(*rows),
        RowTable(*earlier),
    )
    thermo = system_thermo(hull, points, rows, max_subsets, det_tol, bary_tol, on_hull_tol)
    n = rows.fractions.shape[1]
    complete = not np.isnan(thermo.values).any()
    if complete:
        table = row_table(
            rows.keys,
            thermo.stable_of_row,
            thermo.decomposition_keys,
            points.formation,
            thermo.e_above,
            thermo.gnome,
            thermo.bary,
        )
        changed = changed_rows(table, earlier)
    else:
        table = RowTable(rows.keys, np.zeros((0, n + 1), dtype=np.int64), np.zeros((0, n + 3)))
        changed = np.zeros(0, dtype=np.int64)
    return ThermoRows(thermo, complete, table, changed)
