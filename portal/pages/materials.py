"""What the material page shows of one entry: symmetry at the chosen tolerance, the cell the reader chose (as
stored, primitive or conventional) with its lattice, sites and 3D view (bonds, polyhedra, element colours),
its well-known structure type, where the entry came from, download links and entries of the same prototype."""

import re
from dataclasses import dataclass

from hull import families
from hull.export import FORMATS
from hull.hull_sets import HULL_SETS
from hull.models import Entry
from hull.prototype_names import prototype_name
from hull.source_links import source_page
from hull.structure_bonds import BOND_TOLERANCE, bonded_neighbours
from hull.structure_tools import (
    CELLS,
    COLOUR_SCHEMES,
    cell_geometry,
    cell_of,
    check_symprec,
    element_colours,
    structure_from_dict,
    symmetry_of,
)
from portal.pages import figures
from portal.pages.structure_figure import structure_view

MAX_SITES_LISTED = 500
CELL_CHOICES = tuple((cell, "as stored" if cell == "stored" else cell) for cell in reversed(CELLS))
"""(cell, label) for the view's menu: as stored, primitive, conventional."""


@dataclass(frozen=True)
class ViewChoice:
    """How the reader wants the structure drawn."""

    cell: str = "stored"
    bonds: bool = True
    polyhedra: bool = False
    colours: str = COLOUR_SCHEMES[0]


def file_name(path: str) -> str:
    """The last part of a path (POSIX or Windows): the public sees which file, never where it lay."""
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1]


def provenance_context(entry: Entry) -> dict:
    page = source_page(source=entry.source, source_id=entry.source_id)
    return {
        "source_page": page and {"name": page[0], "url": page[1]},
        "source_file": file_name(entry.batch.path),
    }


def _structure_context(entry: Entry, *, symprec: float, view: ViewChoice) -> dict:
    stored = structure_from_dict(entry.structure)
    structure = cell_of(stored, cell=view.cell, symprec=symprec)
    colours = element_colours(view.colours)
    figure = structure_view(
        cell_geometry(structure),
        colours,
        neighbours=bonded_neighbours(structure),
        bonds=view.bonds,
        polyhedra=view.polyhedra,
    )
    return {
        "structure": structure,
        "symmetry": symmetry_of(stored, symprec=symprec),
        "sites": [
            {"index": i + 1, "species": site.species_string, "abc": site.frac_coords, "xyz": site.coords}
            for i, site in enumerate(structure[:MAX_SITES_LISTED])
        ],
        "sites_truncated": len(structure) > MAX_SITES_LISTED,
        "structure_figure": figures.figure_json(figure),
        "cell_label": dict(CELL_CHOICES)[view.cell],
        "structure_type": prototype_name(
            stored,
            anonymous=entry.anonymous_formula,
            spacegroup_number=entry.spacegroup_number,
            symprec=entry.symprec,
        ),
        "bond_tolerance": BOND_TOLERANCE,
    }


def material_context(entry: Entry, *, symprec: float | None, view: ViewChoice = ViewChoice()) -> dict:
    symprec = check_symprec(symprec if symprec is not None else entry.symprec or 0.1)
    context = {
        "entry": entry,
        "stabilities": list(entry.stabilities.all()),
        "hull_sets": list(HULL_SETS),
        "features": getattr(entry, "features", None),
        "same_prototype": families.same_prototype(entry=entry),
        "symprec": symprec,
        "view": view,
        "cell_choices": CELL_CHOICES,
        "colour_schemes": COLOUR_SCHEMES,
        **provenance_context(entry),
    }
    if not entry.structure:
        return context
    context.update(_structure_context(entry, symprec=symprec, view=view))
    context["downloads"] = [
        (
            fmt,
            [(cell, f"?cell={cell}&symprec={symprec:g}") for cell in CELLS],
        )
        for fmt in FORMATS
    ]
    return context
