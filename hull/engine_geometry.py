"""Lower convex hulls in (composition, formation energy) space: qhull call and facet algebra.

A point of an ``n``-element system is ``(x_2, ..., x_n, e)``: the atom fractions of all
elements but the first (the first is implied, the fractions sum to one) and the formation
energy per atom. The lower hull is what Barber, Dobkin and Huhdanpaa's Quickhull (qhull,
via ``scipy.spatial.ConvexHull``) returns, with one extra point far above the points' mean
composition so that the point set is always full-dimensional (all facets that touch it
are upper facets and are dropped). Facets are kept when their composition simplex is
non-degenerate (``|det [x, 1]| > DEGENERATE_DET``) and their outward normal points down.

Every facet stores the inverse of its ``[x, 1]`` vertex matrix, so barycentric coordinates
(decomposition amounts) of any composition are one row-vector product, and the affine plane
of the facet, so the hull energy of many compositions at once is a maximum over planes
(the lower envelope of a convex piecewise-linear function is the maximum of its pieces).
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull, QhullError

DEGENERATE_DET = 1e-14
"""Facets whose ``[x, 1]`` vertex matrix has a smaller absolute determinant are vertical."""
BARY_TOL = 1e-9
"""A composition is inside a facet when all its barycentric coordinates are >= -BARY_TOL."""
_CHUNK = 1024
MAX_SUBSETS = 2000
"""Neighbourhoods with more point subsets than this are handed to qhull instead of enumerated."""


@dataclass(frozen=True, slots=True)
class LowerHull:
    """Lower facets of a point set: vertex indices, inverse vertex matrices and planes."""

    vertices: np.ndarray  # (F, n) int indices into the input points
    inverse: np.ndarray  # (F, n, n): inverse of [x, 1] rows of each facet's vertices
    planes: np.ndarray  # (F, n): energy = planes[:, :-1] @ x + planes[:, -1]
    energies: np.ndarray  # (F, n): formation energies of the vertices


def qhull_facets(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Simplices of the convex hull of ``points`` and the energy component of their outward normals.

    The one qhull call of the engine. ``Qt`` triangulates non-simplicial facets; ``i``
    returns vertex indices. Where qhull gives up on precision (nearly degenerate input),
    joggled input ``QJ`` is the fallback.
    """
    try:
        hull = ConvexHull(points, qhull_options="Qt i")
    except QhullError:
        hull = ConvexHull(points, qhull_options="QJ i")
    return np.asarray(hull.simplices, dtype=np.int64), hull.equations[:, -2]


def build_lower_hull(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray | None = None
) -> LowerHull:
    """Lower hull of points with composition ``coords`` (m, n-1) and ``energies`` (m,).

    ``simplices`` (canonical: each row sorted, rows in lexicographic order, as a built
    hull's ``vertices``) skips the qhull call when the facets are already known.
    """
    if simplices is not None:
        return hull_from_simplices(coords, energies, simplices)
    m, dim = coords.shape
    n = dim + 1
    # the extra top point sits above the mean composition, inside the points' projection;
    # for a system's hull the element corners are among the points, so the lower hull
    # covers the whole composition simplex
    top = np.empty(n)
    top[:-1] = coords.mean(axis=0)
    top[-1] = max(float(energies.max(initial=0.0)), 0.0) + 1.0
    points = np.vstack([np.column_stack([coords, energies]), top])
    simplices, normal_energy = qhull_facets(points)
    # upper facets (those through the top point, or facing up) are dropped before any algebra
    simplices = simplices[(simplices < m).all(axis=1) & (normal_energy < 0.0)]
    if not len(simplices):
        return hull_from_simplices(coords, energies, simplices.reshape(0, n))
    simplices.sort(axis=1)
    simplices = simplices[np.lexsort(simplices.T[::-1])]
    matrices = np.concatenate([coords[simplices], np.ones((len(simplices), n, 1))], axis=2)
    regular = np.abs(np.linalg.det(matrices)) > DEGENERATE_DET
    simplices, matrices = simplices[regular], matrices[regular]
    facet_energies = energies[simplices]
    inverse = np.linalg.inv(matrices)
    planes = np.einsum("fij,fj->fi", inverse, facet_energies)
    # a lower facet lies on or below every point: drop upper ones by testing the top
    # point, which any lower facet plane passes underneath
    lower = planes[:, :-1] @ top[:-1] + planes[:, -1] < top[-1]
    return LowerHull(simplices[lower], inverse[lower], planes[lower], facet_energies[lower])


def lower_simplices(coords: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """Lower-hull simplices as point indices, each row sorted, rows in lexicographic order."""
    return build_lower_hull(coords, energies).vertices


def hull_from_simplices(coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray) -> LowerHull:
    """Inverse vertex matrices, planes and vertex energies of the given simplices."""
    n = coords.shape[1] + 1
    matrices = np.concatenate([coords[simplices], np.ones((len(simplices), n, 1))], axis=2)
    facet_energies = energies[simplices]
    inverse = np.linalg.inv(matrices)
    planes = np.einsum("fij,fj->fi", inverse, facet_energies)
    return LowerHull(simplices, inverse, planes, facet_energies)


@functools.lru_cache(maxsize=256)
def subsets(k: int, n: int) -> np.ndarray:
    """All ``n``-subsets of ``range(k)`` as rows of indices (cached: reused for every vertex)."""
    return np.array(list(itertools.combinations(range(k), n)), dtype=np.int64).reshape(-1, n)


def strictly_above_facets(hull: LowerHull, coords: np.ndarray, energies: np.ndarray, margin: float) -> bool:
    """Whether every point lies more than ``margin`` above every facet plane it is not a vertex of.

    Then the lower hull is strictly convex at every ridge and every non-vertex point is
    strictly above it, so its triangulation is unique: qhull returns it whatever further
    points strictly above it are added.
    """
    heights = energies[None, :] - (hull.planes[:, :-1] @ coords.T + hull.planes[:, -1:])
    np.put_along_axis(heights, hull.vertices, np.inf, axis=1)
    return bool(heights.size == 0 or heights.min() > margin)


def hull_vertex_mask(hull: LowerHull, m: int) -> np.ndarray:
    """Boolean mask over the ``m`` input points: which are vertices of a lower facet."""
    mask = np.zeros(m, dtype=bool)
    mask[hull.vertices.ravel()] = True
    return mask


def locate(hull: LowerHull, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Facet index and barycentric coordinates of each composition row of ``coords``.

    The facet is the plane of maximum value at the composition; where several facets tie
    (compositions on shared edges, or coplanar facets split by triangulation) and the
    arg-max facet does not contain the composition, the containing facet is searched.
    """
    q = len(coords)
    n = hull.planes.shape[1]
    homogeneous = np.column_stack([coords, np.ones(q)])
    facet = np.empty(q, dtype=np.int64)
    for start in range(0, q, _CHUNK):
        block = homogeneous[start : start + _CHUNK]
        # einsum's own loops (not BLAS): each value is the same whatever the block size
        facet[start : start + _CHUNK] = np.argmax(np.einsum("qi,fi->qf", block, hull.planes), axis=1)
    bary = np.einsum("qi,qij->qj", homogeneous, hull.inverse[facet])
    outside = np.flatnonzero(bary.min(axis=1) < -BARY_TOL)
    for row in outside:
        all_bary = np.einsum("i,fij->fj", homogeneous[row], hull.inverse)
        worst = all_bary.min(axis=1)
        best = int(np.argmax(worst))
        facet[row] = best
        bary[row] = all_bary[best]
    return facet, bary.reshape(q, n)


def hull_energies(hull: LowerHull, facet: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Hull formation energy at located compositions: sum of barycentric weights x energies."""
    return np.einsum("qj,qj->q", bary, hull.energies[facet])
