"""Structure views for the material page: symmetry at a chosen tolerance, conventional and primitive cells and
the geometry of the unit cell for a 3D view (files are written by :mod:`hull.export`). Pure pymatgen: no Django
import and no plotting (the page builds its figure from the plain data returned here)."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hull.errors import CatalogueError

CELLS = ("conventional", "primitive", "stored")
SYMPREC_RANGE = (1e-4, 1.0)


@dataclass(frozen=True)
class Symmetry:
    symprec: float
    spacegroup_symbol: str
    spacegroup_number: int
    crystal_system: str
    point_group: str
    lattice_type: str
    hall: str


def check_symprec(value: float) -> float:
    low, high = SYMPREC_RANGE
    if not low <= value <= high:
        raise CatalogueError(f"symmetry tolerance must be between {low} and {high} Å, not {value}")
    return value


def structure_from_dict(data: dict | None) -> Structure:
    if not data:
        raise CatalogueError("this entry has no structure (composition and energy only)")
    return Structure.from_dict(data)


def symmetry_of(structure: Structure, *, symprec: float, angle_tolerance: float = 5.0) -> Symmetry:
    """Space group and crystal system found by spglib at ``symprec`` (Å)."""
    analyzer = SpacegroupAnalyzer(structure, symprec=check_symprec(symprec), angle_tolerance=angle_tolerance)
    data = analyzer.get_symmetry_dataset()
    return Symmetry(
        symprec=symprec,
        spacegroup_symbol=analyzer.get_space_group_symbol(),
        spacegroup_number=analyzer.get_space_group_number(),
        crystal_system=analyzer.get_crystal_system(),
        point_group=analyzer.get_point_group_symbol(),
        lattice_type=analyzer.get_lattice_type(),
        hall=getattr(data, "hall", "") if data is not None else "",
    )


def cell_of(structure: Structure, *, cell: str, symprec: float) -> Structure:
    """The stored cell, or the conventional or primitive standard cell at ``symprec``."""
    if cell not in CELLS:
        raise CatalogueError(f"unknown cell {cell!r}: choose one of {', '.join(CELLS)}")
    if cell == "stored":
        return structure
    analyzer = SpacegroupAnalyzer(structure, symprec=check_symprec(symprec))
    if cell == "conventional":
        return analyzer.get_conventional_standard_structure()
    return analyzer.get_primitive_standard_structure()


COLOUR_SCHEMES = ("VESTA", "Jmol")
"""The element colour tables that ship with pymatgen; VESTA's is the default (Jmol draws Li and Mn in two
close purples, VESTA draws Li green)."""


@cache
def _colour_tables() -> dict:
    import pymatgen.vis
    import yaml

    path = Path(pymatgen.vis.__file__).parent / "ElementColorSchemes.yaml"
    with open(path) as handle:
        return yaml.safe_load(handle)


@cache
def element_colours(scheme: str = COLOUR_SCHEMES[0]) -> dict[str, str]:
    """Colours of the elements (``#rrggbb``) in one of pymatgen's ``COLOUR_SCHEMES``."""
    if scheme not in COLOUR_SCHEMES:
        raise CatalogueError(f"unknown colour scheme {scheme!r}: choose one of {', '.join(COLOUR_SCHEMES)}")
    return {el: "#{:02x}{:02x}{:02x}".format(*rgb) for el, rgb in _colour_tables()[scheme].items()}


@dataclass
class CellGeometry:
    """Atoms (with their periodic images on the cell's faces, edges and corners) and the 12 cell edges;
    ``sites`` holds the index in the structure of each atom drawn."""

    symbols: list[str]
    coords: list[list[float]]
    labels: list[str]
    sites: list[int]
    edges: list[tuple[list[float], list[float]]]


def cell_geometry(structure: Structure, *, boundary_tolerance: float = 1e-3) -> CellGeometry:
    matrix = structure.lattice.matrix
    symbols, coords, labels, sites = [], [], [], []
    for index, site in enumerate(structure):
        frac = np.mod(site.frac_coords, 1.0)
        frac[np.isclose(frac, 1.0, atol=boundary_tolerance)] = 0.0
        shifts = [[0.0], [0.0], [0.0]]
        for axis in range(3):
            if frac[axis] < boundary_tolerance:
                shifts[axis].append(1.0)
        for da in shifts[0]:
            for db in shifts[1]:
                for dc in shifts[2]:
                    position = (frac + [da, db, dc]) @ matrix
                    symbols.append(site.specie.symbol)
                    sites.append(index)
                    coords.append([round(float(v), 4) for v in position])
                    labels.append(
                        f"{site.specie.symbol} (site {index + 1})<br>"
                        f"frac {frac[0] + da:.3f}, {frac[1] + db:.3f}, {frac[2] + dc:.3f}"
                    )
    corners = {
        (i, j, k): (np.array([i, j, k], dtype=float) @ matrix).round(4).tolist()
        for i in (0, 1)
        for j in (0, 1)
        for k in (0, 1)
    }
    edges = []
    for (i, j, k), start in corners.items():
        for axis in range(3):
            end_key = [i, j, k]
            if end_key[axis] == 0:
                end_key[axis] = 1
                edges.append((start, corners[tuple(end_key)]))
    return CellGeometry(symbols=symbols, coords=coords, labels=labels, sites=sites, edges=edges)
