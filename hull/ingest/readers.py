"""Readers for each ingest format. Each yields ``EntryRecord`` for good rows and ``RowProblem`` for bad
ones, and raises ``FileProblem`` when the file as a whole cannot be read.

Formats:
- ``cse-json``: pymatgen ``ComputedStructureEntry``/``ComputedEntry`` dicts (a list or one object), ``.json[.gz]``
- ``wbm-json``: dicts with ``material_id``, ``structure``, ``energy`` and ``corrected_energy`` (eV/cell)
- ``gnome-csv``: a CSV of the GNoME release (``hull.gnome_release``), with or without its structure archive
- ``gnome-structures``: a structure archive of the GNoME release, attached to entries already stored
- ``cif``/``poscar``: structure files with a side CSV of file name and energy
- ``extxyz``: extended XYZ frames with the energy in the frame info

``read`` hands a file to its format's reader (``hull.ingest.entry_json``, ``gnome_csv``, ``structure_files``,
``extxyz``); their shared helpers are in ``hull.ingest.parsing``.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hull.ingest.checks import DEFAULT_LIMITS, Limits
from hull.ingest.entry_json import read_cse_json, read_wbm_json
from hull.ingest.extxyz import read_extxyz
from hull.ingest.gnome_csv import read_gnome_csv
from hull.ingest.parsing import Row, load_json
from hull.ingest.records import FileProblem
from hull.ingest.structure_files import read_gnome_structures, read_structure_files

FORMATS = ("cse-json", "wbm-json", "gnome-csv", "gnome-structures", "cif", "poscar", "extxyz")
POSCAR_NAMES = re.compile(r"^(POSCAR|CONTCAR)([._-].*)?$|\.(vasp|poscar)$", re.IGNORECASE)


def detect_format(path: Path) -> str:
    """Guess the format from the file name and, for JSON, from the first object."""
    name = path.name.lower()
    if path.is_dir():
        files = [p for p in path.iterdir() if p.is_file()]
        if any(p.suffix.lower() == ".cif" for p in files):
            return "cif"
        if any(POSCAR_NAMES.search(p.name) for p in files):
            return "poscar"
        if any(p.suffix.lower() == ".csv" for p in files):
            return "gnome-csv"
        raise FileProblem(str(path), "cannot tell the format of this folder: use --format")
    if name.endswith((".json", ".json.gz")):
        first = _first_json_object(load_json(path))
        if first is not None and "material_id" in first and "corrected_energy" in first:
            return "wbm-json"
        return "cse-json"
    if name.endswith(".csv"):
        return "gnome-csv"
    if name.endswith(".zip"):
        return "gnome-structures"
    if name.endswith(".cif"):
        return "cif"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if POSCAR_NAMES.search(path.name):
        return "poscar"
    raise FileProblem(str(path), "cannot tell the format from the file name: use --format")


def read(
    path: Path,
    fmt: str,
    *,
    method: str | None = None,
    method_family: str | None = None,
    energies: Path | None = None,
    structures: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Row]:
    """The rows of ``path`` read as ``fmt`` (one of ``FORMATS``) by that format's reader."""
    if fmt == "cse-json":
        return read_cse_json(path, method=method, limits=limits)
    if fmt == "wbm-json":
        return read_wbm_json(path, method=method, limits=limits)
    if fmt == "gnome-csv":
        return read_gnome_csv(path, structures=structures, method=method, limits=limits)
    if fmt == "gnome-structures":
        return read_gnome_structures(path, limits=limits)
    if fmt in ("cif", "poscar"):
        return read_structure_files(
            path, fmt, energies=energies, method=method, method_family=method_family, limits=limits
        )
    if fmt == "extxyz":
        return read_extxyz(path, method=method, method_family=method_family, limits=limits)
    raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")


def _first_json_object(data: Any) -> dict | None:
    if isinstance(data, list):
        return data[0] if data and isinstance(data[0], dict) else None
    return data if isinstance(data, dict) else None
