"""Lower hulls built without qhull in compiled kernels: beneath-beyond insertion, the proof that the result is
the unique lower hull, and a system's hull in one call (from its earlier hull, or from its corners).

The qhull call itself stays in ``hull.engine.geometry``; where no hull here can be proved, the caller runs it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from hull.engine.kernels.algebra import (
    LowerHull,
    canonical_rows,
    facet_algebra,
    fill_matrix,
    height_above,
    invert,
    positions,
    simplex_plane_into,
)
from hull.engine.kernels.inputs import BelowPoints, SystemPoints, SystemRows, system_points


class HullPoints(NamedTuple):
    """The points a system's hull was built from (keys, compositions as all fractions but the
    first, formation energies), its facets as indices into them and their planes."""

    keys: np.ndarray
    coords: np.ndarray
    energies: np.ndarray
    simplices: np.ndarray
    planes: np.ndarray


class ProvedHull(NamedTuple):
    """A hull built here, and whether it is proved to be the lower hull (its arrays are empty if not)."""

    ok: bool
    hull: LowerHull


class SystemHullArrays(NamedTuple):
    """``hull_of_system``'s result: the system's points and, where ``how`` is not 0, their lower hull."""

    points: SystemPoints
    how: int  # 1: the earlier hull updated, 2: the hull by insertion, 0: neither proved (run qhull)
    hull: LowerHull


KNOWN_HULL_UPDATED = 1
"""``SystemHullArrays.how`` when the earlier hull was brought up to date."""
INSERTED_FROM_CORNERS = 2
"""``SystemHullArrays.how`` when the hull was inserted from the elemental corners."""


@njit(cache=True)
def inserted_simplices(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, new_points: np.ndarray, det_tol: float
) -> np.ndarray:
    """Beneath-beyond insertion of ``new_points`` into the lower hull ``simplices``; see
    ``hull.engine.geometry.inserted_simplices``.

    Facets live in one growing table with an alive flag (no copies per point); a ridge of
    a visible facet is on the horizon when no other visible facet has all its vertices
    (a ridge of a triangulated hull has at most two facets).
    """
    n = coords.shape[1] + 1
    sorted_simplices = np.empty_like(simplices)
    known_planes = np.empty((len(simplices), n))
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    for f in range(len(simplices)):
        sorted_simplices[f] = np.sort(simplices[f])
        simplex_plane_into(coords, energies, sorted_simplices[f], known_planes[f], matrix, inverse)
    return _inserted(coords, energies, sorted_simplices, known_planes, new_points, det_tol)


@njit(cache=True)
def _inserted(
    coords: np.ndarray,
    energies: np.ndarray,
    simplices: np.ndarray,
    known_planes: np.ndarray,
    new_points: np.ndarray,
    det_tol: float,
) -> np.ndarray:
    """``inserted_simplices`` over simplices (rows sorted) whose planes are known already."""
    n = coords.shape[1] + 1
    capacity = max(64, 4 * len(simplices))
    facets = np.empty((capacity, n), dtype=np.int64)
    planes = np.empty((capacity, n))
    alive = np.zeros(capacity, dtype=np.bool_)
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    count = len(simplices)
    for f in range(count):
        facets[f] = simplices[f]
        planes[f] = known_planes[f]
        alive[f] = True
    visible = np.empty(capacity, dtype=np.int64)
    simplex = np.empty(n, dtype=np.int64)
    for p in new_points:
        n_visible = 0
        for f in range(count):
            if alive[f] and height_above(p, coords, energies, planes[f]) < 0.0:
                if n_visible == len(visible):
                    visible = np.concatenate((visible, np.empty(len(visible), dtype=np.int64)))
                visible[n_visible] = f
                n_visible += 1
        if n_visible == 0:
            continue
        for a in range(n_visible):
            fa = visible[a]
            for dropped in range(n):
                shared = False
                for b in range(n_visible):
                    if b != a and _has_ridge(facets[visible[b]], facets[fa], dropped):
                        shared = True
                        break
                if shared:
                    continue
                # the ridge (facet fa without vertex ``dropped``) joined to p, sorted
                c, placed = 0, False
                for i in range(n):
                    if i == dropped:
                        continue
                    if not placed and p < facets[fa, i]:
                        simplex[c] = p
                        c += 1
                        placed = True
                    simplex[c] = facets[fa, i]
                    c += 1
                if not placed:
                    simplex[c] = p
                if count == capacity:
                    capacity *= 2
                    facets = _grown(facets, capacity)
                    planes = _grown(planes, capacity)
                    grown_alive = np.zeros(capacity, dtype=np.bool_)
                    grown_alive[:count] = alive[:count]
                    alive = grown_alive
                det = simplex_plane_into(coords, energies, simplex, planes[count], matrix, inverse)
                if abs(det) > det_tol:
                    facets[count] = simplex
                    alive[count] = True
                    count += 1
        for a in range(n_visible):
            alive[visible[a]] = False
    return facets[:count][alive[:count]]


@njit(cache=True)
def _has_ridge(facet: np.ndarray, of: np.ndarray, dropped: int) -> bool:
    """Whether ``facet`` has every vertex of ``of`` but the one at position ``dropped``."""
    n = len(of)
    for i in range(n):
        if i == dropped:
            continue
        found = False
        for j in range(n):
            if facet[j] == of[i]:
                found = True
                break
        if not found:
            return False
    return True


@njit(cache=True)
def _grown(table: np.ndarray, capacity: int) -> np.ndarray:
    grown = np.empty((capacity, table.shape[1]), dtype=table.dtype)
    grown[: len(table)] = table
    return grown


@njit(cache=True)
def is_lower_hull(
    coords: np.ndarray, energies: np.ndarray, vertices: np.ndarray, planes: np.ndarray, margin: float
) -> bool:
    """Whether facets provably are the unique lower hull; see ``hull.engine.geometry.is_lower_hull``."""
    count, n = vertices.shape
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    covered = 0.0
    for f in range(count):
        fill_matrix(coords, vertices[f], matrix)
        covered += abs(invert(matrix, inverse))
    return _is_lower_hull(coords, energies, vertices, planes, covered, margin)


@njit(cache=True)
def _is_lower_hull(
    coords: np.ndarray,
    energies: np.ndarray,
    vertices: np.ndarray,
    planes: np.ndarray,
    covered: float,
    margin: float,
) -> bool:
    """``is_lower_hull`` given the summed ``|det [x, 1]|`` of the facets (1 when they cover the simplex)."""
    count, n = vertices.shape
    if count == 0 or not abs(covered - 1.0) < 1e-9:
        return False
    is_vertex = np.zeros(len(energies), dtype=np.bool_)
    for f in range(count):
        for i in range(n):
            is_vertex[vertices[f, i]] = True
        for p in range(len(energies)):
            if not is_vertex[p] and not height_above(p, coords, energies, planes[f]) > margin:
                return False
        for i in range(n):
            is_vertex[vertices[f, i]] = False
    return True


@njit(cache=True)
def updated_hull(
    old: HullPoints, keys: np.ndarray, coords: np.ndarray, energies: np.ndarray, det_tol: float, margin: float
) -> ProvedHull:
    """An earlier hull brought up to date over the current points, if provably their lower hull.

    The current points that the earlier ones lack are inserted (``inserted_simplices``) into
    the earlier simplices; the facets are mapped to the current points (an earlier vertex
    that is gone and was not cut off voids the result), put in canonical order, and proved
    (``is_lower_hull``).
    """
    joined = np.flatnonzero(positions(keys, old.keys) < 0)
    n_old = len(old.keys)
    work_keys = np.concatenate((old.keys, keys[joined]))
    work_coords = np.concatenate((old.coords, coords[joined]))
    work_energies = np.concatenate((old.energies, energies[joined]))
    # the earlier simplices are canonical (rows sorted) and their planes were computed from
    # the same points: the insertion starts from them as they are
    facets = _inserted(
        work_coords, work_energies, old.simplices, old.planes, np.arange(n_old, len(work_keys)), det_tol
    )
    simplices = positions(work_keys[facets.ravel()].reshape(facets.shape), keys)
    if (simplices < 0).any():
        simplices = simplices[:0]  # an earlier vertex is gone: no hull to prove
    return _proved_hull(coords, energies, simplices, margin)


@njit(cache=True)
def _proved_hull(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, margin: float
) -> ProvedHull:
    """The simplices' facets in canonical order, ok only when ``is_lower_hull`` proves them the lower
    hull (empty arrays otherwise)."""
    n = coords.shape[1] + 1
    if len(simplices):
        hull, dets = facet_algebra(coords, energies, canonical_rows(simplices), np.zeros(0), -1.0)
        covered = 0.0
        for f in range(len(dets)):
            covered += dets[f]
        if _is_lower_hull(coords, energies, hull.vertices, hull.planes, covered, margin):
            return ProvedHull(True, hull)
    empty = LowerHull(
        np.zeros((0, n), dtype=np.int64), np.zeros((0, n, n)), np.zeros((0, n)), np.zeros((0, n))
    )
    return ProvedHull(False, empty)


@njit(cache=True)
def fresh_hull(
    fractions: np.ndarray, coords: np.ndarray, energies: np.ndarray, det_tol: float, margin: float
) -> ProvedHull:
    """The lower hull of a system's points built by insertion from its elemental corners, if provably right.

    The corners (the points whose fractions are a unit vector, formation energy 0) span one
    facet over the whole composition simplex; every other point is inserted into it
    (``inserted_simplices``), lowest energy first, so that later points mostly lie above
    the hull already and cost one plane test per facet. The canonical result is proved
    (``is_lower_hull``), as for an updated hull; without one corner per element, or
    without a proof, it is not ok and the caller runs qhull.
    """
    m, n = fractions.shape
    corner = np.full(n, -1, dtype=np.int64)
    is_corner = np.zeros(m, dtype=np.bool_)
    for p in range(m):
        unit = -1
        for c in range(n):
            if fractions[p, c] == 1.0 and unit < 0:
                unit = c
            elif fractions[p, c] != 0.0:
                unit = -2
                break
        if unit >= 0 and corner[unit] < 0 and energies[p] == 0.0:
            corner[unit] = p
            is_corner[p] = True
    if (corner < 0).any():
        return _proved_hull(coords, energies, np.zeros((0, n), dtype=np.int64), margin)
    start = np.sort(corner).reshape(1, n)
    order = np.argsort(energies, kind="mergesort")
    others = np.empty(m - n, dtype=np.int64)
    k = 0
    for p in order:
        if not is_corner[p]:
            others[k] = p
            k += 1
    return _proved_hull(
        coords, energies, inserted_simplices(coords, energies, start, others[:k], det_tol), margin
    )


@njit(cache=True)
def hull_of_system(
    rows: SystemRows,
    refs: np.ndarray,
    below: BelowPoints,
    codes: np.ndarray,
    old: HullPoints,
    formation_tol: float,
    det_tol: float,
    margin: float,
) -> SystemHullArrays:
    """``system_points``, then the earlier hull ``old`` brought up to date (``updated_hull``, where
    ``old.simplices`` is not empty) or else the hull by insertion from the corners
    (``fresh_hull``), in one call. ``rows``, ``below`` and ``old`` may come as plain tuples (see
    ``hull.engine.kernels``)."""
    rows, below, old = SystemRows(*rows), BelowPoints(*below), HullPoints(*old)
    points = system_points(rows, refs, below, codes, formation_tol)
    how = INSERTED_FROM_CORNERS
    if len(old.simplices):
        proved = updated_hull(old, points.keys, points.coords, points.energies, det_tol, margin)
        how = KNOWN_HULL_UPDATED
        if not proved.ok:
            proved = fresh_hull(points.fractions, points.coords, points.energies, det_tol, margin)
            how = INSERTED_FROM_CORNERS
    else:
        proved = fresh_hull(points.fractions, points.coords, points.energies, det_tol, margin)
    return SystemHullArrays(points, how if proved.ok else 0, proved.hull)
