"""CrystalNN bonds (pymatgen's ``CrystalNN()`` with its defaults) from one neighbour list per structure.

pymatgen's ``CrystalNN().get_bonded_structure`` spends its time outside the geometry: per site it builds
site objects for every neighbour within 7 Å, walks every ridge of the whole Voronoi diagram in Python and
finds each neighbour's index by comparing it with every site. Here one neighbour list serves all sites, the
ridges of the centre are picked from qhull's arrays, and the weights follow CrystalNN's steps as they are:
solid angle of the Voronoi face over the largest, times solid angle over face area (porous adjustment),
times 1 + 3 sqrt(|ΔX| / 3.3) (electronegativity), renormalised, times a cosine cut-off between the sum of
radii + 0.5 Å and + 1 Å, rounded to three decimals; the coordination number with the largest semicircle
integral picks the neighbours. Pure numpy/scipy; no Django.
"""

import math
import warnings
from functools import cache
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from pymatgen.core import Structure
from scipy.spatial import Voronoi

from hull.dimensionality import neighbour_list

SEARCH_CUTOFF = 7.0  # Å, CrystalNN's search_cutoff
DISTANCE_CUTOFFS = (0.5, 1.0)
X_DIFF_WEIGHT = 3.0
NEAR = (4.5, 5.5)
"""Neighbourhoods (Å) tried in turn: a cell that one closes and decides needs no more; a site that none
decides is done alone with its 7 Å neighbourhood, as pymatgen does it."""


@cache
def _radius(species) -> float:
    """CrystalNN's radius of a species: ionic for an oxidation state, 0 without one."""
    from pymatgen.core.local_env import _get_radius

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _get_radius(SimpleNamespace(specie=species))


@cache
def _diameter(a, b) -> float:
    """Sum of the radii of two species, or of their covalent (else atomic) radii where one has none."""
    from pymatgen.core.local_env import _get_default_radius

    ra, rb = _radius(a), _radius(b)
    if ra > 0 and rb > 0:
        return ra + rb
    return _get_default_radius(SimpleNamespace(specie=a)) + _get_default_radius(SimpleNamespace(specie=b))


def _face_measures(centers: np.ndarray, faces: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Solid angle and volume of each face seen from its centre, as pymatgen's ``solid_angle`` and
    ``vol_tetra`` compute them over the fan of triangles (v0, vi, vi+1) of a face, for all faces at once."""
    counts = np.array([len(face) - 2 for face in faces])
    center = np.repeat(centers, counts, axis=0)
    first = np.repeat(np.array([face[0] for face in faces]), counts, axis=0)
    second = np.concatenate([face[1:-1] for face in faces])
    third = np.concatenate([face[2:] for face in faces])
    d0, di, dj = first - center, second - center, third - center
    r0, ri, rj = (np.sqrt(np.einsum("ij,ij->i", d, d)) for d in (d0, di, dj))
    tp = np.abs(np.einsum("ij,ij->i", d0, np.cross(di, dj)))
    de = r0 * ri * rj + rj * np.einsum("ij,ij->i", d0, di) + ri * np.einsum("ij,ij->i", d0, dj)
    de = de + r0 * np.einsum("ij,ij->i", di, dj)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(de == 0, np.where(tp > 0, 0.5 * math.pi, -0.5 * math.pi), np.arctan(tp / de))
    angle = np.where(angle > 0, angle, angle + math.pi) * 2
    volume = np.abs(np.einsum("ij,ij->i", center - third, np.cross(first - third, second - third))) / 6
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.add.reduceat(angle, starts), np.add.reduceat(volume, starts)


class Cells(NamedTuple):
    """Voronoi faces of some sites: the site and the neighbour point of each face, its solid angle and area,
    and each site's reach (largest distance of its cell's vertices) or inf where its cell is open."""

    site: np.ndarray
    other: np.ndarray
    angle: np.ndarray
    area: np.ndarray
    reach: np.ndarray


def _cells(points: np.ndarray, n_roots: int) -> Cells:
    """The Voronoi cells of points 0 .. n_roots - 1 in one tessellation of ``points``."""
    voro = Voronoi(points)
    pairs = voro.ridge_points
    rows = np.flatnonzero((pairs < n_roots).any(axis=1))
    site = np.concatenate([pairs[rows, 0], pairs[rows, 1]])
    other = np.concatenate([pairs[rows, 1], pairs[rows, 0]])
    rows = np.concatenate([rows, rows])
    mine = site < n_roots
    site, other, rows = site[mine], other[mine], rows[mine]
    indices = [voro.ridge_vertices[r] for r in rows.tolist()]
    reach = np.zeros(n_roots)
    open_cell = np.array([-1 in vind for vind in indices], dtype=bool)
    reach[site[open_cell]] = np.inf
    closed = ~open_cell
    site, other = site[closed], other[closed]
    faces = [voro.vertices[vind] for vind, ok in zip(indices, closed.tolist(), strict=True) if ok]
    if not faces:
        empty = np.zeros(0)
        return Cells(site, other, empty, empty, np.full(n_roots, np.inf))
    centers = points[site]
    angle, volume = _face_measures(centers, faces)
    face_dist = np.sqrt(np.einsum("ij,ij->i", centers - points[other], centers - points[other])) / 2
    counts = np.array([len(face) for face in faces])
    vertex_reach = np.sqrt(((np.concatenate(faces) - np.repeat(centers, counts, axis=0)) ** 2).sum(axis=1))
    np.maximum.at(reach, np.repeat(site, counts), vertex_reach)
    reach[np.setdiff1d(np.arange(n_roots), site)] = np.inf  # no face: pymatgen raises, search further
    return Cells(site, other, angle, 3 * volume / face_dist, reach)


def _semicircle_integral(bins: list[float], idx: int) -> float:
    x1, x2 = bins[idx], bins[idx + 1]
    area1 = (
        0.25 * math.pi
        if x1 == 1
        else 0.5 * (x1 * math.sqrt(1 - x1**2) + math.atan(x1 / math.sqrt(1 - x1**2)))
    )
    area2 = 0.5 * (x2 * math.sqrt(1 - x2**2) + math.atan(x2 / math.sqrt(1 - x2**2)))
    return (area1 - area2) / (0.25 * math.pi)


def _chosen(weights: np.ndarray) -> np.ndarray:
    """Indices of the neighbours of the most probable coordination number, from rounded weights."""
    positive = weights > 0
    bins = sorted(set(weights[positive].tolist()), reverse=True) + [0]
    cn_weights: dict[int, float] = {}
    cn_threshold: dict[int, float] = {}
    for idx, value in enumerate(bins):
        if value != 0:
            cn = int((weights >= value).sum())
            cn_threshold[cn] = value
            cn_weights[cn] = _semicircle_integral(bins, idx)
    zero = 1 - sum(cn_weights.values())
    if zero > 0:
        cn_weights[0] = zero
    best = max(cn_weights, key=lambda cn: cn_weights[cn])
    if best == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(weights >= cn_threshold[best])


def _site_cell_as_pymatgen(n: int, frac: np.ndarray, matrix: np.ndarray, max_cutoff: float, lists: dict):
    """VoronoiNN's search for one site: its neighbours within 7 Å, doubled up to the cell's longest diagonal
    while its cell stays open. Returns (neighbour sites, images, faces)."""
    cutoff = SEARCH_CUTOFF
    while True:
        if cutoff not in lists:
            lists[cutoff] = neighbour_list(frac, matrix, cutoff)
        centre, point, images, distances = lists[cutoff]
        mine = np.flatnonzero(centre == n)
        mine = mine[np.argsort(distances[mine], kind="stable")]
        nbr, img = point[mine], images[mine]
        points = np.vstack([frac[n] @ matrix, (frac[nbr] + img) @ matrix])
        try:
            cells = _cells(points, 1)
            if not len(cells.site):
                raise ValueError("No Voronoi neighbors found for site - try increasing cutoff")
            if np.isinf(cells.reach[0]):
                raise RuntimeError(
                    "This structure is pathological, infinite vertex in the Voronoi construction"
                )
            return nbr, img, cells
        except RuntimeError as exc:
            if cutoff >= max_cutoff:
                if exc.args and "vertex" in exc.args[0]:
                    raise
                raise RuntimeError("Error in Voronoi neighbor finding; max cutoff exceeded") from exc
            cutoff = min(cutoff * 2, max_cutoff + 0.001)


def _bonds_of_site(n, species, electronegativity, j, t, angle, area, dist):
    """The neighbours (rows of j, t) that CrystalNN picks for site n from its Voronoi faces."""
    keep = angle > 0
    j, t, angle, area, dist = j[keep], t[keep], angle[keep], area[keep], dist[keep]
    if not len(j):
        return j[:0], t[:0]
    weight = angle / angle.max()
    weight = weight * (angle / area)
    x1, x2 = electronegativity[n], electronegativity[j]
    chemical = np.where(np.isnan(x1) | np.isnan(x2), 1.0, 1 + X_DIFF_WEIGHT * np.sqrt(np.abs(x1 - x2) / 3.3))
    weight = weight * chemical
    if weight.max() == 0:
        return j[:0], t[:0]
    weight = weight / weight.max()
    diameter = np.array([_diameter(species[n], species[k]) for k in j.tolist()])
    low, high = diameter + DISTANCE_CUTOFFS[0], diameter + DISTANCE_CUTOFFS[1]
    with np.errstate(invalid="ignore"):
        cosine = (np.cos((dist - low) / (high - low) * math.pi) + 1) * 0.5
    weight = weight * np.where(dist <= low, 1.0, np.where(dist < high, cosine, 0.0))
    if weight.max() == 0:
        return j[:0], t[:0]
    chosen = _chosen(np.round(weight, 3))
    return j[chosen], t[chosen]


def _decided_cells(
    roots: np.ndarray, frac: np.ndarray, matrix: np.ndarray, radius: float, lists: dict
) -> dict:
    """Cells of the given sites from one tessellation of them and their neighbours within ``radius``, for
    the sites whose cell reaches no farther than radius / 2 (no other point can cut those): site ->
    (neighbour sites, images, solid angles, areas, distances)."""
    centre, point, images, _ = lists[radius] = neighbour_list(frac, matrix, radius)
    mine = np.isin(centre, roots)
    root_keys = np.column_stack([roots, np.zeros((len(roots), 3), dtype=np.int64)])
    keys = np.concatenate([root_keys, np.column_stack([point[mine], images[mine]])])
    _, first = np.unique(keys, axis=0, return_index=True)
    keys = keys[np.sort(first)]  # the roots first, in order
    positions = (frac[keys[:, 0]] + keys[:, 1:]) @ matrix
    try:
        cells = _cells(positions, len(roots))
    except RuntimeError:  # qhull failed: these sites one by one as pymatgen does them
        return {}
    order = np.argsort(cells.site, kind="stable")
    bounds = np.searchsorted(cells.site[order], np.arange(len(roots) + 1))
    decided = {}
    for k, n in enumerate(roots.tolist()):
        if not 2 * cells.reach[k] < radius - 1e-6:
            continue
        faces = order[bounds[k] : bounds[k + 1]]
        other = cells.other[faces]
        dist = np.linalg.norm(positions[k] - positions[other], axis=1)
        decided[n] = (keys[other, 0], keys[other, 1:], cells.angle[faces], cells.area[faces], dist)
    return decided


def crystal_nn_bonds(structure: Structure) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bonds (i, j, image) that ``CrystalNN().get_bonded_structure(structure)`` draws, one row per
    neighbour that a site picks (each bond usually twice, once from each end).

    One tessellation of the sites and their neighbours within ``NEAR`` gives every site's cell; where a
    cell reaches no farther than NEAR / 2 no other point can cut it, so it is the cell that pymatgen finds
    from the site's 7 Å neighbourhood; the other sites are done one by one as pymatgen does them."""
    n_sites = len(structure)
    frac = np.array(structure.frac_coords, dtype=float)
    matrix = np.array(structure.lattice.matrix, dtype=float)
    species = list(structure.species)
    electronegativity = np.array([sp.X for sp in species], dtype=float)
    corners = np.array([[1, 1, 1], [-1, 1, 1], [1, -1, 1], [1, 1, -1]]) @ matrix
    max_cutoff = float(np.linalg.norm(corners, axis=1).max()) + 0.01
    lists: dict[float, tuple] = {}  # neighbour lists by cutoff
    found: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    remaining = np.arange(n_sites)
    for radius in NEAR:
        if not len(remaining):
            break
        found.update(_decided_cells(remaining, frac, matrix, radius, lists))
        remaining = np.array([n for n in remaining.tolist() if n not in found], dtype=np.int64)
    rows_i, rows_j, rows_t = [], [], []
    for n in range(n_sites):
        if n in found:
            j, t, angle, area, dist = found[n]
        else:
            nbr, img, site_cells = _site_cell_as_pymatgen(n, frac, matrix, max_cutoff, lists)
            j, t = nbr[site_cells.other - 1], img[site_cells.other - 1]
            angle, area = site_cells.angle, site_cells.area
            dist = np.linalg.norm(frac[n] @ matrix - (frac[j] + t) @ matrix, axis=1)
        j, t = _bonds_of_site(n, species, electronegativity, j, t, angle, area, dist)
        rows_i.append(np.full(len(j), n, dtype=np.int64))
        rows_j.append(j)
        rows_t.append(t)
    if not rows_i:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(rows_i), np.concatenate(rows_j), np.concatenate(rows_t)
