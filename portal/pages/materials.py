"""What the material page shows of one entry: symmetry at the chosen tolerance, lattice, sites, the 3D view,
download links and entries of the same prototype."""

from hull import families
from hull.export import FORMATS
from hull.hull_sets import HULL_SETS
from hull.models import Entry
from hull.structure_tools import (
    cell_geometry,
    check_symprec,
    element_colours,
    structure_from_dict,
    symmetry_of,
)
from portal.pages import figures

MAX_SITES_LISTED = 500


def material_context(entry: Entry, *, symprec: float | None) -> dict:
    symprec = check_symprec(symprec if symprec is not None else entry.symprec or 0.1)
    context = {
        "entry": entry,
        "stabilities": list(entry.stabilities.all()),
        "hull_sets": list(HULL_SETS),
        "features": getattr(entry, "features", None),
        "same_prototype": families.same_prototype(entry=entry),
        "symprec": symprec,
    }
    if not entry.structure:
        return context
    structure = structure_from_dict(entry.structure)
    context["structure"] = structure
    context["symmetry"] = symmetry_of(structure, symprec=symprec)
    context["sites"] = [
        {"index": i + 1, "species": site.species_string, "abc": site.frac_coords, "xyz": site.coords}
        for i, site in enumerate(structure[:MAX_SITES_LISTED])
    ]
    context["sites_truncated"] = len(structure) > MAX_SITES_LISTED
    context["structure_figure"] = figures.figure_json(
        figures.structure_view(cell_geometry(structure), element_colours())
    )
    context["downloads"] = [
        (
            fmt,
            [(cell, f"?cell={cell}&symprec={symprec:g}") for cell in ("conventional", "primitive", "stored")],
        )
        for fmt in FORMATS
    ]
    return context
