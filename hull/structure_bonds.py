"""Bonds and coordination polyhedra of a structure, for the material page's 3D view. Pure pymatgen and scipy:
no Django import and no plotting.

Bonds come from a distance cutoff on Cordero's covalent radii (Cordero et al., Dalton Trans. 2008, 2832; the
table pymatgen ships): two atoms are bonded when they are closer than ``BOND_TOLERANCE`` times the sum of their
radii. In a compound that holds a non-metal, metal-metal pairs are never bonded (in Li2O the Li-Li distance,
2.3 Å, is shorter than the Li-O cutoff). Over a sample of the demo catalogue this gives the coordination number
that pymatgen's CrystalNN finds for about 87 % of the sites, at a thousandth of its cost (CrystalNN takes about
7 ms a site, over a second for the largest cells, too slow for a page).

A polyhedron is drawn around an atom whose bonded neighbours (at least four, not all in a plane) are all of a
more electronegative element: LiO4 in Li2O, PO4 and FeO6 in LiFePO4; anions and metals get none."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pymatgen.analysis.molecule_structure_comparator import CovalentRadius
from pymatgen.core import Element, Structure
from scipy.spatial import ConvexHull, QhullError

BOND_TOLERANCE = 1.25
MIN_POLYHEDRON_VERTICES = 4


@dataclass(frozen=True)
class Neighbour:
    """A bonded neighbour of a site: its element and the vector (Å, Cartesian) from the site to it."""

    symbol: str
    vector: tuple[float, float, float]


@dataclass(frozen=True)
class Polyhedron:
    """A coordination polyhedron: its centre's element, its corners (Å) and its faces as corner triples."""

    centre: str
    vertices: list[list[float]]
    faces: list[tuple[int, int, int]]


def _radius(symbol: str) -> float:
    return CovalentRadius.radius[symbol]


def bonded_neighbours(structure: Structure, *, tolerance: float = BOND_TOLERANCE) -> list[list[Neighbour]]:
    """For each site, its bonded neighbours (periodic images included)."""
    symbols = [site.specie.symbol for site in structure]
    neighbours: list[list[Neighbour]] = [[] for _ in symbols]
    if not symbols:
        return neighbours
    elements = {symbol: Element(symbol) for symbol in set(symbols)}
    ionic = any(not element.is_metal for element in elements.values())
    reach = tolerance * 2 * max(_radius(symbol) for symbol in elements)
    centres, others, images, distances = structure.get_neighbor_list(reach)
    matrix = structure.lattice.matrix
    frac = structure.frac_coords
    for i, j, image, distance in zip(centres, others, images, distances, strict=True):
        a, b = symbols[i], symbols[j]
        if distance < 1e-6 or distance > tolerance * (_radius(a) + _radius(b)):
            continue
        if ionic and elements[a].is_metal and elements[b].is_metal:
            continue
        vector = (frac[j] + image - frac[i]) @ matrix
        neighbours[i].append(Neighbour(symbol=b, vector=tuple(round(float(v), 4) for v in vector)))
    return neighbours


def _is_polyhedron_centre(symbol: str, around: Sequence[Neighbour]) -> bool:
    if len(around) < MIN_POLYHEDRON_VERTICES:
        return False
    own = Element(symbol).X
    return all(own < Element(n.symbol).X for n in around)


def polyhedron_at(centre: str, position: Sequence[float], around: Sequence[Neighbour]) -> Polyhedron | None:
    """The coordination polyhedron of an atom of element ``centre`` at ``position`` (Å), or None where the
    atom is not a polyhedron centre or its neighbours lie in a plane."""
    if not _is_polyhedron_centre(centre, around):
        return None
    vertices = np.asarray(position, dtype=float) + np.array([n.vector for n in around])
    try:
        hull = ConvexHull(vertices)
    except QhullError:  # flat: a square-planar or a linear coordination
        return None
    return Polyhedron(
        centre=centre,
        vertices=vertices.round(4).tolist(),
        faces=[tuple(int(v) for v in face) for face in hull.simplices],
    )
