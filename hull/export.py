"""The one structure exporter: a catalogue entry's structure as a CIF, POSCAR, extended XYZ or pymatgen JSON
file. The material page and the REST API both call :func:`structure_file`, so one material gives the same
bytes from either; OPTIMADE serves the same lattice and positions as numbers. Every number in the text files
is written with :data:`DECIMALS` decimal places. No Django import: the entry is read by its attributes."""

import json
from dataclasses import dataclass
from typing import Any

from pymatgen.core import Structure
from pymatgen.io.cif import CifWriter
from pymatgen.io.vasp import Poscar

from hull.errors import CatalogueError
from hull.structure_tools import cell_of, structure_from_dict

DECIMALS = 10
"""Decimal places of lengths (Å), coordinates and energies (eV) in CIF, POSCAR and extended XYZ files."""

FORMATS = {
    "cif": ("cif", "chemical/x-cif"),
    "poscar": ("vasp", "text/plain"),
    "extxyz": ("extxyz", "text/plain"),
    "json": ("json", "application/json"),
}
"""Format name: (file extension, content type)."""


@dataclass(frozen=True)
class StructureFile:
    text: str
    filename: str
    content_type: str


def structure_file(
    entry: Any, *, fmt: str, cell: str = "stored", symprec: float | None = None
) -> StructureFile:
    """``entry``'s structure (a :class:`hull.models.Entry` or any object with its ``structure``, ``public_id``,
    ``reduced_formula``, ``energy``, ``energy_per_atom`` and ``symprec``) in ``cell`` (stored, conventional or
    primitive at ``symprec``, by default the entry's own) as a ``fmt`` file. The energy written is the entry's
    total energy scaled to the cell's number of atoms."""
    if fmt not in FORMATS:
        raise CatalogueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    stored = structure_from_dict(entry.structure)
    structure = cell_of(stored, cell=cell, symprec=entry.symprec or 0.1 if symprec is None else symprec)
    energy = entry.energy if len(structure) == len(stored) else entry.energy_per_atom * len(structure)
    text = structure_text(
        structure,
        fmt=fmt,
        comment=f"{entry.reduced_formula} {entry.public_id} ({cell} cell)",
        source_id=entry.public_id,
        energy=energy,
    )
    extension, content_type = FORMATS[fmt]
    return StructureFile(
        text=text,
        filename=f"{entry.public_id}_{cell}.{extension}",
        content_type=f"{content_type}; charset=utf-8",
    )


def structure_text(structure: Structure, *, fmt: str, comment: str, source_id: str, energy: float) -> str:
    """``structure`` as CIF, POSCAR, extended XYZ or pymatgen JSON text."""
    if fmt == "cif":
        return str(CifWriter(structure, significant_figures=DECIMALS))
    if fmt == "poscar":
        return Poscar(structure, comment=comment).get_str(significant_figures=DECIMALS)
    if fmt == "extxyz":
        return _extxyz(structure, comment=comment, source_id=source_id, energy=energy)
    if fmt == "json":
        return json.dumps(structure.as_dict(), indent=1)
    raise CatalogueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _extxyz(structure: Structure, *, comment: str, source_id: str, energy: float) -> str:
    """One extended-XYZ frame in the ASE convention (Lattice, Properties, pbc, then key=value pairs), which the
    ingest reads back: ``energy`` (eV per cell) and ``source_id``."""
    if not structure.is_ordered:
        raise CatalogueError("extxyz needs an ordered structure; use cif")
    lattice = " ".join(f"{v:.{DECIMALS}f}" for v in structure.lattice.matrix.ravel())
    info = (
        f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T" energy={energy:.{DECIMALS}f} '
        f'source_id={source_id} comment="{comment.replace(chr(34), chr(39))}"'
    )
    lines = [str(len(structure)), info]
    width = DECIMALS + 6
    for site in structure:
        x, y, z = site.coords
        lines.append(
            f"{site.specie.symbol:<3} {x:{width}.{DECIMALS}f} {y:{width}.{DECIMALS}f} {z:{width}.{DECIMALS}f}"
        )
    return "\n".join(lines) + "\n"
