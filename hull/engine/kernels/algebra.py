"""Facet algebra of lower hulls in compiled kernels: small matrix inverses, planes, canonical facet order,
and the location of compositions in facets.

A facet of an ``n``-element system is ``n`` point indices; its ``[x, 1]`` vertex matrix holds the
compositions (all atom fractions but the first) of its vertices with a column of ones. The inverse of that
matrix gives barycentric coordinates (one row-vector product per composition) and the facet's affine
plane (energy = plane[:-1] . x + plane[-1]). The matrices hold at most one row per element, where a LAPACK
call costs more in dispatch than in arithmetic, so they are inverted here by Gauss-Jordan elimination.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class LowerHull(NamedTuple):
    """Lower facets of a point set: vertex indices, inverse vertex matrices, planes and vertex energies."""

    vertices: np.ndarray  # (F, n) int indices into the input points
    inverse: np.ndarray  # (F, n, n): inverse of [x, 1] rows of each facet's vertices
    planes: np.ndarray  # (F, n): energy = planes[:, :-1] @ x + planes[:, -1]
    energies: np.ndarray  # (F, n): formation energies of the vertices


class Located(NamedTuple):
    """Where compositions lie on a lower hull (``locate_rows``)."""

    facet: np.ndarray  # (q,) facet index of each composition
    bary: np.ndarray  # (q, n) barycentric coordinates in that facet
    energy: np.ndarray  # (q,) hull energy at each composition


@njit(cache=True)
def canonical_rows(simplices: np.ndarray) -> np.ndarray:
    """Each row sorted, rows in lexicographic order (the engine's canonical facet order).

    Rows are sorted in place by insertion (at most one column per element), then ordered by a
    stable merge sort on whole rows: one allocation each, where a system's hull has tens of facets.
    """
    rows = simplices.copy()
    count, n = rows.shape
    for r in range(count):
        for i in range(1, n):
            value = rows[r, i]
            j = i - 1
            while j >= 0 and rows[r, j] > value:
                rows[r, j + 1] = rows[r, j]
                j -= 1
            rows[r, j + 1] = value
    return rows[_lexicographic_order(rows)]


@njit(cache=True)
def _row_less(rows: np.ndarray, a: int, b: int) -> bool:
    for c in range(rows.shape[1]):
        if rows[a, c] != rows[b, c]:
            return rows[a, c] < rows[b, c]
    return False


@njit(cache=True)
def _lexicographic_order(rows: np.ndarray) -> np.ndarray:
    """Stable order of the rows, lexicographic (bottom-up merge sort)."""
    count = rows.shape[0]
    source = np.arange(count)
    target = np.empty(count, dtype=np.int64)
    width = 1
    while width < count:
        for low in range(0, count, 2 * width):
            middle = min(low + width, count)
            high = min(low + 2 * width, count)
            i, j, k = low, middle, low
            while i < middle and j < high:
                if _row_less(rows, source[j], source[i]):
                    target[k] = source[j]
                    j += 1
                else:
                    target[k] = source[i]
                    i += 1
                k += 1
            while i < middle:
                target[k] = source[i]
                i += 1
                k += 1
            while j < high:
                target[k] = source[j]
                j += 1
                k += 1
        source, target = target, source
        width *= 2
    return source


@njit(cache=True)
def lower_facets(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, top: np.ndarray, det_tol: float
) -> LowerHull:
    """Inverse vertex matrices, planes and vertex energies of canonical simplices.

    Drops simplices with ``|det [x, 1]| <= det_tol`` (vertical) and, when ``top`` is given
    (a point above every lower facet plane; empty to skip), those whose plane passes above it.
    """
    hull, _ = facet_algebra(coords, energies, simplices, top, det_tol)
    return hull


@njit(cache=True)
def facet_algebra(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, top: np.ndarray, det_tol: float
):
    """``lower_facets`` and the ``|det [x, 1]|`` of each kept facet (their sum is the area covered)."""
    count, n = simplices.shape
    keep = np.zeros(count, dtype=np.bool_)
    inverse = np.empty((count, n, n))
    planes = np.empty((count, n))
    dets = np.empty(count)
    matrix = np.empty((n, n))
    for f in range(count):
        fill_matrix(coords, simplices[f], matrix)
        det = invert(matrix, inverse[f])
        dets[f] = abs(det)
        if not abs(det) > det_tol:
            continue
        for i in range(n):
            value = 0.0
            for j in range(n):
                value = value + inverse[f, i, j] * energies[simplices[f, j]]
            planes[f, i] = value
        if len(top):
            height = planes[f, n - 1]
            for j in range(n - 1):
                height = height + planes[f, j] * top[j]
            if not height < top[n - 1]:
                continue
        keep[f] = True
    if not keep.all():
        simplices, inverse, planes, dets = simplices[keep], inverse[keep], planes[keep], dets[keep]
    facet_energies = np.empty((len(simplices), n))
    for f in range(len(simplices)):
        for i in range(n):
            facet_energies[f, i] = energies[simplices[f, i]]
    return LowerHull(simplices, inverse, planes, facet_energies), dets


@njit(cache=True)
def invert(matrix: np.ndarray, out: np.ndarray) -> float:
    """Gauss-Jordan inverse with partial pivoting into ``out``; returns the determinant (0.0 if singular).

    ``matrix`` is overwritten.
    """
    n = matrix.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 1.0 if i == j else 0.0
    det = 1.0
    for c in range(n):
        pivot = c
        for r in range(c + 1, n):
            if abs(matrix[r, c]) > abs(matrix[pivot, c]):
                pivot = r
        if matrix[pivot, c] == 0.0:
            return 0.0
        if pivot != c:
            det = -det
            for j in range(n):
                matrix[c, j], matrix[pivot, j] = matrix[pivot, j], matrix[c, j]
                out[c, j], out[pivot, j] = out[pivot, j], out[c, j]
        scale = matrix[c, c]
        det = det * scale
        for j in range(n):
            matrix[c, j] = matrix[c, j] / scale
            out[c, j] = out[c, j] / scale
        for r in range(n):
            if r != c:
                factor = matrix[r, c]
                if factor != 0.0:
                    for j in range(n):
                        matrix[r, j] = matrix[r, j] - factor * matrix[c, j]
                        out[r, j] = out[r, j] - factor * out[c, j]
    return det


@njit(cache=True)
def locate_rows(hull: LowerHull, coords: np.ndarray, bary_tol: float) -> Located:
    """Facet, barycentric coordinates and hull energy at each composition row.

    The facet is the plane of maximum value (first of ties); where it does not contain the
    composition (ties on shared edges), the facet whose smallest coordinate is largest.
    """
    planes, inverse, facet_energies = hull.planes, hull.inverse, hull.energies
    q = coords.shape[0]
    count, n = planes.shape
    if count == 0 and q > 0:
        raise ValueError("no facets to locate compositions in")
    facet = np.zeros(q, dtype=np.int64)
    bary = np.zeros((q, n))
    energy = np.zeros(q)
    point = np.empty(n)
    for r in range(q):
        for j in range(n - 1):
            point[j] = coords[r, j]
        point[n - 1] = 1.0
        best, best_value = 0, -np.inf
        for f in range(count):
            value = 0.0
            for i in range(n):
                value = value + point[i] * planes[f, i]
            if value > best_value:
                best, best_value = f, value
        worst = barycentric(point, inverse[best], bary[r])
        if worst < -bary_tol:
            trial = np.empty(n)
            best_worst = -np.inf
            for f in range(count):
                w = barycentric(point, inverse[f], trial)
                if w > best_worst:
                    best_worst, best = w, f
            barycentric(point, inverse[best], bary[r])
        facet[r] = best
        total = 0.0
        for j in range(n):
            total = total + bary[r, j] * facet_energies[best, j]
        energy[r] = total
    return Located(facet, bary, energy)


@njit(cache=True)
def barycentric(point: np.ndarray, inverse: np.ndarray, out: np.ndarray) -> float:
    """out = point @ inverse (barycentric coordinates); returns their minimum."""
    n = len(point)
    smallest = np.inf
    for j in range(n):
        value = 0.0
        for i in range(n):
            value = value + point[i] * inverse[i, j]
        out[j] = value
        smallest = min(smallest, value)
    return smallest


@njit(cache=True)
def fill_matrix(coords: np.ndarray, simplex: np.ndarray, matrix: np.ndarray) -> None:
    """matrix = the ``[x, 1]`` rows of the simplex's vertices."""
    n = len(simplex)
    for i in range(n):
        for j in range(n - 1):
            matrix[i, j] = coords[simplex[i], j]
        matrix[i, n - 1] = 1.0


@njit(cache=True)
def simplex_plane(coords: np.ndarray, energies: np.ndarray, simplex: np.ndarray, out: np.ndarray) -> float:
    """out = the affine plane through the simplex (energy = out[:-1] . x + out[-1]); returns det [x, 1]."""
    n = len(simplex)
    return simplex_plane_into(coords, energies, simplex, out, np.empty((n, n)), np.empty((n, n)))


@njit(cache=True)
def simplex_plane_into(
    coords: np.ndarray,
    energies: np.ndarray,
    simplex: np.ndarray,
    out: np.ndarray,
    matrix: np.ndarray,
    inverse: np.ndarray,
) -> float:
    """``simplex_plane`` with caller-owned scratch matrices."""
    n = len(simplex)
    fill_matrix(coords, simplex, matrix)
    det = invert(matrix, inverse)
    for i in range(n):
        value = 0.0
        for j in range(n):
            value = value + inverse[i, j] * energies[simplex[j]]
        out[i] = value
    return det


@njit(cache=True)
def height_above(point: int, coords: np.ndarray, energies: np.ndarray, plane: np.ndarray) -> float:
    """Energy of a point above a plane."""
    value = plane[len(plane) - 1]
    for j in range(len(plane) - 1):
        value = value + plane[j] * coords[point, j]
    return energies[point] - value


@njit(cache=True)
def positions(wanted: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each wanted key in ``keys`` (unique), -1 where it is not there (any shape of ``wanted``)."""
    flat = wanted.ravel()
    out = np.full(len(flat), -1, dtype=np.int64)
    if len(keys):
        order = np.argsort(keys, kind="mergesort")
        ordered = keys[order]
        at = np.searchsorted(ordered, flat)
        for i in range(len(flat)):
            if at[i] < len(keys) and ordered[at[i]] == flat[i]:
                out[i] = order[at[i]]
    return out.reshape(wanted.shape)
