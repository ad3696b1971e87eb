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
The facet algebra and the location of compositions run in compiled kernels
(``hull.engine.kernels``), whatever produced the simplices, so every path gives the same bits.

Known hulls are updated without qhull by beneath-beyond insertion of the points that joined
(``inserted_simplices``; Preparata and Shamos, "Computational Geometry", 1985, sec. 3.4),
and the result is kept only when ``is_lower_hull`` proves it is the unique lower hull.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from hull.engine.kernels import algebra, construction
from hull.engine.kernels.algebra import LowerHull

DEGENERATE_DET = 1e-14
"""Facets whose ``[x, 1]`` vertex matrix has a smaller absolute determinant are vertical."""
BARY_TOL = 1e-9
"""A composition is inside a facet when all its barycentric coordinates are >= -BARY_TOL."""
MAX_SUBSETS = 2000
"""Neighbourhoods with more point subsets than this are handed to qhull instead of enumerated."""


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
    # upper facets (those through the top point, or facing up) are dropped before any algebra;
    # of the rest, vertical ones and (tested against the top point, which any lower facet
    # plane passes underneath) upper ones
    simplices = algebra.canonical_rows(simplices[(simplices < m).all(axis=1) & (normal_energy < 0.0)])
    return algebra.lower_facets(coords, energies, simplices, top, DEGENERATE_DET)


def hull_from_simplices(coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray) -> LowerHull:
    """Inverse vertex matrices, planes and vertex energies of the given simplices (all kept)."""
    simplices = np.ascontiguousarray(simplices, dtype=np.int64).reshape(-1, coords.shape[1] + 1)
    return algebra.lower_facets(coords, energies, simplices, _NO_TOP, -1.0)


_NO_TOP = np.zeros(0)


def inserted_simplices(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, new_points: np.ndarray
) -> np.ndarray:
    """Lower-hull simplices once ``new_points`` join a known lower hull (beneath-beyond insertion).

    ``simplices`` is the lower hull of the other points (indices into ``coords``). For each
    new point in turn, the facets whose plane passes above it are removed and the point is
    joined to every ridge that only one removed facet has (the horizon, and the removed
    region's boundary on the composition simplex); joins that are flat in composition (the
    point and the ridge on one face of the simplex) are dropped. Points above every plane
    change nothing. Exact in exact arithmetic; the result is unchecked here (callers verify
    it, see ``is_lower_hull``) because near-coplanar input can misclassify a facet.
    """
    simplices = np.ascontiguousarray(simplices, dtype=np.int64).reshape(-1, coords.shape[1] + 1)
    return construction.inserted_simplices(
        coords, energies, simplices, new_points.astype(np.int64), DEGENERATE_DET
    )


def is_lower_hull(hull: LowerHull, coords: np.ndarray, energies: np.ndarray, margin: float) -> bool:
    """Whether ``hull`` is provably the unique lower hull of the points (so qhull would return it).

    True when every point lies more than ``margin`` above every facet it is not a vertex of
    (each simplex is then a facet of a strictly convex lower hull) and the facets cover the
    composition simplex (their ``|det [x, 1]|`` sum to 1, the whole simplex's).
    """
    return construction.is_lower_hull(coords, energies, hull.vertices, hull.planes, margin)


def locate(hull: LowerHull, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Facet index and barycentric coordinates of each composition row of ``coords``.

    The facet is the plane of maximum value at the composition; where several facets tie
    (compositions on shared edges, or coplanar facets split by triangulation) and the
    arg-max facet does not contain the composition, the containing facet is searched.
    """
    located = algebra.locate_rows(hull, coords, BARY_TOL)
    return located.facet, located.bary


def hull_energies(hull: LowerHull, facet: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Hull formation energy at located compositions: sum of barycentric weights x energies."""
    return np.einsum("qj,qj->q", bary, hull.energies[facet])
