"""Readers for each ingest format. Each yields ``EntryRecord`` for good rows and ``RowProblem`` for bad
ones, and raises ``FileProblem`` when the file as a whole cannot be read.

Formats:
- ``cse-json``: pymatgen ``ComputedStructureEntry``/``ComputedEntry`` dicts (a list or one object), ``.json[.gz]``
- ``wbm-json``: dicts with ``material_id``, ``structure``, ``energy`` and ``corrected_energy`` (eV/cell)
- ``gnome-csv``: a CSV of the GNoME release (``hull.gnome_release``), with or without its structure archive
- ``gnome-structures``: a structure archive of the GNoME release, attached to entries already stored
- ``cif``/``poscar``: structure files with a side CSV of file name and energy
- ``extxyz``: extended XYZ frames with the energy in the frame info
"""

import csv
import gzip
import io
import json
import math
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Composition, Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from hull.gnome_release import PUBLISHED_HULL_COLUMNS, R2SCAN_FILE, STABLE, csv_kind
from hull.hull_sets import DFT, ML_POTENTIAL, OTHER, R2SCAN
from hull.ingest.checks import (
    CONTROL_CHARACTERS,
    DEFAULT_LIMITS,
    MAX_CARTESIAN,
    Limits,
    amount_problems,
    composition_mismatch,
    coordinate_problems,
    is_number,
    matrix_problems,
    member_path_problem,
    raw_structure_problems,
    shown,
    site_count_problem,
    text_problem,
)
from hull.ingest.records import EntryRecord, FileProblem, RowProblem, StructureRecord

FORMATS = ("cse-json", "wbm-json", "gnome-csv", "gnome-structures", "cif", "poscar", "extxyz")
MP2020_METHOD = "GGA/GGA+U (MP2020)"
DFT_RUN_TYPES = {"GGA", "GGA+U", "PBE", "PBE+U", "PBESOL", "HSE", "LDA"}
R2SCAN_RUN_TYPES = {
    "R2SCAN",
    "R2SCAN+U",
    "SCAN",
    "SCAN+U",
}  # meta-GGA: their own hull set, never mixed with GGA
POSCAR_NAMES = re.compile(r"^(POSCAR|CONTCAR)([._-].*)?$|\.(vasp|poscar)$", re.IGNORECASE)

Row = EntryRecord | StructureRecord | RowProblem

# A structure file or archive member larger than this is refused unread (a 500-site CIF is about 50 kB).
MAX_STRUCTURE_BYTES = 16 * 2**20


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


def load_json(path: Path) -> Any:
    """JSON from a plain or gzipped file, with a clear error for unreadable or truncated files."""
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable or truncated file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise FileProblem(
            str(path), f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise FileProblem(
            str(path), "JSON nested too deeply to read (more than Python's recursion limit)"
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise FileProblem(str(path), f"not valid JSON ({_describe(exc)})") from exc


def read_cse_json(path: Path, *, method: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Iterator[Row]:
    """pymatgen computed entries; energies are taken as given (corrections already applied)."""
    items = load_json(path)
    if (
        isinstance(items, dict)
        and "@class" not in items
        and items
        and all(isinstance(v, dict) and "@class" in v for v in items.values())
    ):
        items = list(items.values())  # a mapping such as element -> reference entry
    elif isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise FileProblem(
            str(path), "expected a list of ComputedEntry dicts, a mapping of them, or one such dict"
        )
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        yield _guarded(where, lambda where=where, item=item: _cse_row(where, item, method, limits))


def _cse_row(where: str, item: object, method: str | None, limits: Limits) -> Row:
    """One pymatgen entry dict: its raw values are checked before pymatgen parses them (pymatgen drops a NaN
    amount silently), and what pymatgen parsed is compared with the raw composition."""
    if not isinstance(item, dict):
        return RowProblem(where, "not a JSON object")
    entry_id = item.get("entry_id")
    if entry_id is None or entry_id == "":
        return RowProblem(where, "no entry_id: every entry needs an id")
    if not isinstance(entry_id, str | int) or isinstance(entry_id, bool):
        return RowProblem(where, f"entry_id {shown(entry_id)} must be text")
    where += f" ({shown(str(entry_id))})"
    problems = _raw_number_problems(item, required=("energy",), optional=("correction",))
    raw_composition = item.get("composition")
    if raw_composition is not None or item.get("structure") is None:
        problems += amount_problems(raw_composition, limits)
    if item.get("structure") is not None:
        problems += raw_structure_problems(item["structure"], limits)
    if problems:
        return RowProblem(where, "; ".join(problems))
    try:
        entry = _computed_entry_from_dict(item)
    except Exception as exc:  # pymatgen raises many types for bad dicts
        return RowProblem(where, f"cannot read entry: {_describe(exc)}")
    if raw_composition is not None:
        mismatch = composition_mismatch(
            _element_amounts(Composition(raw_composition)), _element_amounts(entry.composition)
        )
        if mismatch is None and len(Composition(raw_composition)) != len(raw_composition):
            mismatch = f"the file's composition {shown(raw_composition, 80)} was read as {entry.composition}"
        if mismatch:
            return RowProblem(where, mismatch)
    parameters = entry.parameters if isinstance(entry.parameters, dict) else {}
    structure = entry.structure if isinstance(entry, ComputedStructureEntry) else None
    return EntryRecord(
        location=where,
        source_id=str(entry_id),
        composition=entry.composition,
        structure=structure,
        energy=float(entry.energy),
        uncorrected_energy=float(entry.uncorrected_energy),
        correction=float(entry.correction),
        method=method or _method_of(entry),
        method_family=_family_of(parameters),
        data=_jsonable(
            {
                "run_type": parameters.get("run_type"),
                "energy_adjustments": [adj.name for adj in entry.energy_adjustments],
                "potcar_symbols": parameters.get("potcar_symbols"),
                "hubbards": parameters.get("hubbards"),
            }
        ),
    )


def read_wbm_json(path: Path, *, method: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Iterator[Row]:
    """The WBM sample: raw and MP2020-corrected energies per cell."""
    items = load_json(path)
    if not isinstance(items, list):
        raise FileProblem(str(path), "expected a list of WBM dicts")
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        yield _guarded(where, lambda where=where, item=item: _wbm_row(where, item, method, limits))


def _wbm_row(where: str, item: object, method: str | None, limits: Limits) -> Row:
    if not isinstance(item, dict):
        return RowProblem(where, "not a JSON object")
    material_id = item.get("material_id")
    if not material_id:
        return RowProblem(where, "no material_id")
    if not isinstance(material_id, str | int) or isinstance(material_id, bool):
        return RowProblem(where, f"material_id {shown(material_id)} must be text")
    where += f" ({shown(str(material_id))})"
    missing = [key for key in ("structure", "energy", "corrected_energy") if item.get(key) is None]
    if missing:
        return RowProblem(where, f"missing {', '.join(missing)}")
    problems = _raw_number_problems(item, required=("energy", "corrected_energy"), optional=())
    problems += raw_structure_problems(item["structure"], limits)
    if item.get("formula") is not None and not isinstance(item["formula"], str):
        problems.append(f"formula {shown(item['formula'])} must be text")
    if problems:
        return RowProblem(where, "; ".join(problems))
    try:
        structure = Structure.from_dict(item["structure"])
    except Exception as exc:
        return RowProblem(where, f"cannot read structure: {_describe(exc)}")
    energy, raw = float(item["corrected_energy"]), float(item["energy"])
    return EntryRecord(
        location=where,
        source_id=str(material_id),
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=raw,
        correction=energy - raw,
        method=method or MP2020_METHOD,
        method_family=DFT,
        expected_formula=item.get("formula"),
    )


# GNoME release columns (every CSV kind), keyed by their name lower-cased with everything but letters and digits
# removed. Columns not named here are ignored (the leading unnamed index column pandas writes, Elements, ...).
GNOME_COLUMNS = {
    "material_id": ("materialid", "id"),
    "composition": ("composition",),
    "reduced_formula": ("reducedformula",),
    "nsites": ("nsites", "numberofsites"),
    "corrected_energy": ("correctedenergy", "energycorrected", "totalenergy", "r2scanenergy", "energy"),
    "uncorrected_energy": ("uncorrectedenergy", "energyuncorrected"),
    "band_gap": ("bandgap",),
    "space_group": ("spacegroup",),
    "space_group_number": ("spacegroupnumber",),
    "crystal_system": ("crystalsystem",),
    "point_group": ("pointgroup",),
    "dimensionality_cheon": ("dimensionalitycheon",),
    "volume": ("volume",),
    "density": ("density",),
    "is_train": ("istrain",),
    "directory": ("directory", "datadirectory"),
    **{key: (key.replace("_", ""),) for key in PUBLISHED_HULL_COLUMNS},
}
GNOME_REQUIRED = ("material_id", "corrected_energy")
# Columns kept as given, with the file they came from (``data["source_columns"]``).
GNOME_KEPT = (
    "space_group",
    "space_group_number",
    "crystal_system",
    "point_group",
    "dimensionality_cheon",
    "volume",
    "density",
    "is_train",
    "directory",
)
GNOME_STRUCTURE_NAMES = ("by_id.zip", "by_id", "by_composition.zip", "by_reduced_formula.zip")
GNOME_METHODS = {R2SCAN_FILE: ("r2SCAN", R2SCAN)}


def read_gnome_csv(
    path: Path,
    *,
    structures: Path | None = None,
    method: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Row]:
    """A CSV of the GNoME release (``stable_materials_summary.csv``, ``stable_materials_r2scan.csv``,
    ``external_materials_summary.csv``, ``mp_snapshot_summary.csv``; see ``hull.gnome_release``), streamed row by
    row. With a structure archive (``--structures``, or ``by_id.zip``, ``by_composition.zip`` or
    ``by_reduced_formula.zip`` beside the CSV) each row gets its CIF; without one the rows are composition-only
    entries, whose structures a later ingest of an archive attaches (``read_gnome_structures``)."""
    if path.is_dir():
        candidates = sorted(path.glob("*.csv"))
        if not candidates:
            raise FileProblem(str(path), "no CSV file in this folder")
        path = candidates[0]
    structures = structures or _find_beside(path, GNOME_STRUCTURE_NAMES)
    kind = csv_kind(path.name)
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = _csv_columns(path, reader, GNOME_COLUMNS, GNOME_REQUIRED)
        with _StructureArchive(structures) if structures is not None else nullcontext() as archive:
            try:
                for i, row in enumerate(reader):
                    where = f"{path.name} row {i + 2}"
                    yield _guarded(
                        where,
                        lambda where=where, row=row: _gnome_row(
                            where, row, columns, archive, kind, path.name, method, limits
                        ),
                    )
            except csv.Error as exc:
                raise FileProblem(str(path), f"malformed CSV ({exc})") from exc
            except UnicodeDecodeError as exc:
                raise FileProblem(str(path), f"unreadable file ({exc})") from exc


def _gnome_row(
    where: str,
    row: dict,
    columns: dict,
    archive: "_StructureArchive | None",
    kind: str,
    file_name: str,
    method: str | None,
    limits: Limits,
) -> Row:
    material_id = (row.get(columns["material_id"]) or "").strip()
    if not material_id:
        return RowProblem(where, "empty MaterialId")
    where += f" ({shown(material_id)})"
    problem = text_problem("MaterialId", material_id, limits.text_lengths.get("source_id", 128))
    if problem:
        return RowProblem(where, problem)
    for header in columns.values():
        if "\x00" in (row.get(header) or ""):
            return RowProblem(where, f"column {header!r} holds a NUL byte")
    try:
        energy = _number(row, columns, "corrected_energy", required=True)
        raw = _number(row, columns, "uncorrected_energy")
        band_gap = _number(row, columns, "band_gap")
        nsites = _number(row, columns, "nsites")
        symmetry = _csv_symmetry(row, columns)
    except ValueError as exc:
        return RowProblem(where, str(exc))
    if nsites is not None and (nsites != int(nsites) or (problem := site_count_problem(int(nsites), limits))):
        return RowProblem(
            where, f"column {columns['nsites']!r} is {nsites:g}: {problem or 'not a whole number'}"
        )
    formula = row.get(columns["reduced_formula"]) if "reduced_formula" in columns else None
    formula = formula or (row.get(columns["composition"]) if "composition" in columns else None)
    composition = _csv_composition(row, columns, nsites)
    if isinstance(composition, str):
        return RowProblem(where, composition)
    structure = None
    if archive is not None:
        keys = {
            "id": material_id,
            "composition": row.get(columns.get("composition", "")),
            "reduced_formula": formula,
        }
        try:
            member, text = archive.read(keys[archive.layout] or "")
        except ValueError as exc:
            return RowProblem(where, str(exc))
        if text is None:
            return RowProblem(where, f"no structure {shown(member)}.CIF in {archive.path.name}")
        try:
            structure = _parse_cif(text, limits)
        except Exception as exc:
            return RowProblem(where, f"cannot read {shown(member)}.CIF: {_describe(exc)}")
    if structure is not None and composition is not None and archive.layout != "id":
        # a CIF found by formula may be another cell of the same compound: energies follow its atoms
        scale = structure.composition.num_atoms / composition.num_atoms
        energy, raw = energy * scale, raw * scale if raw is not None else None
    if structure is None and composition is None:
        return RowProblem(
            where, "no Composition or Reduced Formula column: a row without a structure needs one"
        )
    method_label, family = GNOME_METHODS.get(kind, (MP2020_METHOD, DFT))
    kept = {
        key: row.get(columns[key]).strip()
        for key in GNOME_KEPT
        if key in columns and (row.get(columns[key]) or "").strip()
    }
    published = {}
    for key in PUBLISHED_HULL_COLUMNS:
        value = _as_float(row.get(columns[key])) if key in columns else None
        if value is not None:
            published[key] = value
    data = {
        "release": "gnome" if kind in (STABLE, R2SCAN_FILE) else None,  # GNoME's own materials
        "release_file": file_name,
        "source_columns": kept,
        "published_hull": published,
        "correction_known": raw is not None,
    }
    return EntryRecord(
        location=where,
        source_id=material_id,
        composition=structure.composition if structure is not None else composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=raw if raw is not None else energy,
        correction=energy - raw if raw is not None else 0.0,
        method=method or method_label,
        method_family=family,
        band_gap=band_gap,
        data=_jsonable(data),
        expected_formula=formula,
        expected_nsites=int(nsites)
        if nsites is not None and archive is not None and archive.layout == "id"
        else None,
        symmetry=symmetry if structure is None else None,
    )


def _csv_composition(row: dict, columns: dict, nsites: float | None) -> Composition | str | None:
    """The cell's composition from the Composition (or Reduced Formula) column, as many formula units as NSites
    says; a sentence saying what is wrong, or None where neither column is there."""
    key = "composition" if (row.get(columns.get("composition", "")) or "").strip() else "reduced_formula"
    text = (row.get(columns.get(key, "")) or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"(?:[A-Z][a-z]?\d*(?:\.\d+)?)+", text.replace(" ", "")):
        return f"column {columns[key]!r} is {shown(text)!r}, not a formula"
    try:
        composition = Composition(text)
    except Exception as exc:
        return f"column {columns[key]!r} is {shown(text)!r}, not a formula ({_describe(exc)})"
    if composition.num_atoms <= 0:
        return f"column {columns[key]!r} is {shown(text)!r}: no atoms"
    if nsites is not None and nsites > composition.num_atoms:
        units = nsites / composition.num_atoms
        if abs(units - round(units)) < 1e-6:
            composition = composition * round(units)
    return composition


def _csv_symmetry(row: dict, columns: dict) -> dict | None:
    """The space group the CSV gives (kept for an entry without a structure, whose own cannot be computed)."""
    number = _number(row, columns, "space_group_number")
    if number is not None and (number != int(number) or not 1 <= number <= 230):
        raise ValueError(f"column {columns['space_group_number']!r} is {number:g}: not a space group number")
    symbol = (row.get(columns.get("space_group", "")) or "").strip()
    crystal_system = (row.get(columns.get("crystal_system", "")) or "").strip().lower()
    if len(symbol) > 32 or len(crystal_system) > 16 or CONTROL_CHARACTERS.search(symbol + crystal_system):
        raise ValueError("the space group or crystal system column holds no space group or crystal system")
    if number is None and not symbol:
        return None
    return {
        "spacegroup_symbol": symbol,
        "spacegroup_number": int(number) if number is not None else None,
        "crystal_system": crystal_system,
    }


def read_gnome_structures(
    path: Path, *, limits: Limits = DEFAULT_LIMITS
) -> Iterator["StructureRecord | RowProblem"]:
    """The CIFs of a structure archive of the GNoME release (``by_id.zip``, ``by_composition.zip`` or
    ``by_reduced_formula.zip``, or a folder of CIFs), one ``StructureRecord`` per member, keyed as the archive
    names them; the ingest attaches each to the entry it names (``hull.services.structures``)."""
    with _StructureArchive(path) as archive:
        for stem in archive.stems():
            where = f"{path.name} member {stem}"
            yield _guarded(
                where, lambda where=where, stem=stem: _structure_member(where, stem, archive, limits)
            )


def _structure_member(where: str, stem: str, archive: "_StructureArchive", limits: Limits) -> Row:
    try:
        member, text = archive.read(stem)
        structure = _parse_cif(text, limits)
    except Exception as exc:
        return RowProblem(where, f"cannot read {shown(stem)}.CIF: {_describe(exc)}")
    return StructureRecord(location=where, key=stem, layout=archive.layout, structure=structure)


ENERGY_COLUMNS = {
    "file": ("file", "filename", "name", "path"),
    "energy": ("energy", "correctedenergy", "totalenergy", "energyev"),
    "energy_per_atom": ("energyperatom",),
    "uncorrected_energy": ("uncorrectedenergy",),
    "source_id": ("sourceid", "id", "materialid"),
    "formula": ("formula", "reducedformula", "composition"),
}


def read_structure_files(
    path: Path,
    fmt: str,
    *,
    energies: Path | None = None,
    method: str | None = None,
    method_family: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Row]:
    """CIF or POSCAR files with a side CSV naming each file and its energy (eV per cell, or per atom)."""
    folder = path if path.is_dir() else path.parent
    energies = energies or _find_beside(folder / "x", ("energies.csv",))
    if energies is None:
        raise FileProblem(str(path), "no energies: put energies.csv beside the files or pass --energies")
    rows, columns = _read_csv(energies, ENERGY_COLUMNS, ("file",))
    if "energy" not in columns and "energy_per_atom" not in columns:
        raise FileProblem(str(energies), "missing column 'energy' (or 'energy_per_atom')")
    wanted = None if path.is_dir() else path.name
    for line_no, row in rows:
        name = (row.get(columns["file"]) or "").strip()
        if wanted is not None and name != wanted:
            continue
        where = f"{energies.name} row {line_no} ({shown(name) or 'no file name'})"
        yield _guarded(
            where,
            lambda where=where, name=name, row=row: _structure_file_row(
                where, name, row, columns, folder, fmt, method, method_family, limits
            ),
        )


def _structure_file_row(
    where: str,
    name: str,
    row: dict,
    columns: dict,
    folder: Path,
    fmt: str,
    method: str | None,
    method_family: str | None,
    limits: Limits,
) -> Row:
    if not name:
        return RowProblem(where, "empty file name")
    problem = member_path_problem(folder, name)
    if problem:
        return RowProblem(where, problem)
    file_path = folder / name
    if not file_path.is_file():
        return RowProblem(where, f"no such file {shown(name)} in {folder.name}/")
    try:
        energy = _number(row, columns, "energy")
        per_atom = _number(row, columns, "energy_per_atom")
        raw = _number(row, columns, "uncorrected_energy")
    except ValueError as exc:
        return RowProblem(where, str(exc))
    if energy is None and per_atom is None:
        return RowProblem(where, "no energy given")
    if file_path.stat().st_size > MAX_STRUCTURE_BYTES:
        return RowProblem(where, f"{shown(name)} is larger than {MAX_STRUCTURE_BYTES // 2**20} MiB")
    try:
        text = file_path.read_text(encoding="utf-8", errors="strict")
        structure = _parse_cif(text, limits) if fmt == "cif" else _parse_poscar(text, limits)
    except Exception as exc:
        return RowProblem(where, f"cannot read {shown(name)}: {_describe(exc)}")
    if energy is None:
        energy = per_atom * len(structure)
    return EntryRecord(
        location=where,
        source_id=(row.get(columns.get("source_id", "")) or "").strip() or file_path.stem,
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=raw if raw is not None else energy,
        correction=energy - raw if raw is not None else 0.0,
        method=method or "unspecified",
        method_family=method_family or OTHER,
        expected_formula=row.get(columns["formula"]) if "formula" in columns else None,
    )


def read_extxyz(
    path: Path,
    *,
    method: str | None = None,
    method_family: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Iterator[Row]:
    """Extended XYZ frames; the energy (eV per cell) is the frame's ``energy`` info or calculator energy. Frames
    are split by their atom counts and each is parsed alone, so that one bad frame is a row error; a file whose
    frames cannot be told apart is refused as a whole."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable extended XYZ ({_describe(exc)})") from exc
    for i, (natoms, frame) in enumerate(_xyz_frames(str(path), text)):
        where = f"{path.name} frame {i}"
        yield _guarded(
            where,
            lambda where=where, i=i, natoms=natoms, frame=frame: _extxyz_frame_row(
                where, i, natoms, frame, path, method, method_family, limits
            ),
        )


def _xyz_frames(name: str, text: str) -> Iterator[tuple[int, str]]:
    """The (atom count, text) of each frame of an XYZ file: a count line, a comment line, one line per atom."""
    lines = text.splitlines(keepends=True)
    at = 0
    while at < len(lines):
        if not lines[at].strip():
            at += 1
            continue
        words = lines[at].split()
        if len(words) != 1 or not words[0].isdigit():
            raise FileProblem(
                name, f"unreadable extended XYZ (line {at + 1}: {shown(lines[at].strip())} is no atom count)"
            )
        natoms = int(words[0])
        if at + 2 + natoms > len(lines):
            raise FileProblem(
                name,
                f"unreadable extended XYZ (line {at + 1}: {natoms} atoms, but the file ends before them)",
            )
        yield natoms, "".join(lines[at : at + 2 + natoms])
        at += 2 + natoms


def _extxyz_frame_row(
    where: str,
    i: int,
    natoms: int,
    frame: str,
    path: Path,
    method: str | None,
    method_family: str | None,
    limits: Limits,
) -> Row:
    """One frame's text: its site count checked before ASE parses it."""
    from ase.io import read as ase_read

    problem = site_count_problem(natoms, limits)
    if problem:
        return RowProblem(where, problem)
    try:
        atoms = ase_read(io.StringIO(frame), index=0, format="extxyz")
    except Exception as exc:  # ASE raises many types for a bad frame
        return RowProblem(where, f"cannot read frame: {_describe(exc)}")
    return _extxyz_row(where, i, atoms, path, method, method_family, limits)


def _extxyz_row(
    where: str, i: int, atoms: Any, path: Path, method: str | None, method_family: str | None, limits: Limits
) -> Row:
    from pymatgen.io.ase import AseAtomsAdaptor

    info = dict(atoms.info)
    source_id = info.get("source_id") or info.get("material_id") or info.get("id") or f"{path.stem}-{i}"
    source_id = str(source_id)
    where += f" ({shown(source_id)})"
    energy = info.get("energy")
    if energy is None and atoms.calc is not None:
        energy = atoms.calc.results.get("energy")
    if energy is None:
        return RowProblem(where, "no energy in the frame info")
    problems = [
        f"{key} is {shown(value)}: it must be a finite number"
        for key, value in (("energy", energy), ("uncorrected_energy", info.get("uncorrected_energy", 0.0)))
        if _as_float(value) is None
    ]
    if not atoms.pbc.all() or not atoms.cell.array.any():
        return RowProblem(where, 'not a periodic crystal (needs a Lattice and pbc="T T T")')
    problem = site_count_problem(len(atoms), limits)
    if problem:
        problems.append(problem)
    else:
        problems += matrix_problems(atoms.cell.array.tolist()) + coordinate_problems(
            atoms.positions.tolist(), MAX_CARTESIAN
        )
    if problems:
        return RowProblem(where, "; ".join(problems))
    try:
        structure = AseAtomsAdaptor.get_structure(atoms)
    except Exception as exc:
        return RowProblem(where, f"cannot read frame: {_describe(exc)}")
    energy = _as_float(energy)
    raw = info.get("uncorrected_energy")
    raw = _as_float(raw) if raw is not None else energy
    method = info.get("method") or method or "unspecified"
    return EntryRecord(
        location=where,
        source_id=source_id,
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=raw,
        correction=energy - raw,
        method=method if isinstance(method, str) else str(method),
        method_family=method_family or OTHER,
    )


# --- helpers ---------------------------------------------------------------------------------------------


def _computed_entry_from_dict(item: dict) -> ComputedEntry:
    if item.get("structure") is not None or item.get("@class") == "ComputedStructureEntry":
        return ComputedStructureEntry.from_dict(item)
    return ComputedEntry.from_dict(item)


def _method_of(entry: ComputedEntry) -> str:
    run_type = str((entry.parameters or {}).get("run_type") or "").upper()
    mp2020 = any("MP2020" in adj.name for adj in entry.energy_adjustments)
    if run_type in {"GGA", "GGA+U"}:
        return MP2020_METHOD if mp2020 or entry.correction == 0 else "GGA/GGA+U"
    if run_type:
        return run_type.replace("R2SCAN", "r2SCAN")
    return MP2020_METHOD if mp2020 else "unspecified"


def _family_of(parameters: dict) -> str:
    run_type = str(parameters.get("run_type") or "").upper()
    if run_type in R2SCAN_RUN_TYPES:
        return R2SCAN
    if run_type in DFT_RUN_TYPES or parameters.get("potcar_symbols"):
        return DFT
    if run_type in {"CHGNET", "M3GNET", "MACE", "SEVENNET", "MLIP"}:
        return ML_POTENTIAL
    return DFT if not parameters else OTHER


def _read_csv(path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """Rows of a (small) CSV and a map from our column names to the file's headers, read defensively."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable file ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    columns = _csv_columns(path, reader, aliases, required)
    try:
        rows = [(i + 2, row) for i, row in enumerate(reader)]
    except csv.Error as exc:
        raise FileProblem(str(path), f"malformed CSV ({exc})") from exc
    return rows, columns


def _number(row: dict, columns: dict, key: str, *, required: bool = False) -> float | None:
    """The finite number in column ``key`` of a CSV row; None where the column or its value is absent, unless
    ``required``. Raises ValueError with a message naming the column and its value."""
    if key not in columns:
        return None
    raw = row.get(columns[key])
    if raw is None or str(raw).strip() == "":
        if required:
            raise ValueError(f"column {columns[key]!r} is empty: it must be a number")
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"column {columns[key]!r} is {shown(raw)!r}, not a number") from exc
    if not math.isfinite(value):
        raise ValueError(f"column {columns[key]!r} is {shown(raw)!r}: it must be a finite number")
    return value


def _parse_cif(text: str, limits: Limits) -> Structure:
    """The first structure of a CIF. The atom-site rows are counted before pymatgen builds the structure (which
    takes time quadratic in the sites: 24 s for 4,096), so a CIF listing more than ``max_sites`` is refused
    unbuilt; the built structure is checked against the limits again, after symmetry expanded it."""
    import warnings

    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = CifParser.from_str(text, site_tolerance=1e-6)
        for block in parser.as_dict().values():
            rows = block.get("_atom_site_fract_x", block.get("_atom_site_Cartn_x"))
            if isinstance(rows, list) and (problem := site_count_problem(len(rows), limits)):
                raise ValueError(f"the CIF lists {problem}")
        structures = parser.parse_structures(primitive=False, on_error="raise")
    if not structures:
        raise ValueError("no structure in the CIF")
    return structures[0]


def _parse_poscar(text: str, limits: Limits) -> Structure:
    """A POSCAR's structure; its counts line is read first, so that a file of more than ``max_sites`` sites is
    refused before pymatgen builds it (6 s for 4,096 sites)."""
    lines = text.splitlines()
    for line in lines[5:7]:  # the counts follow the lattice, after an optional line of symbols
        words = line.split()
        if words and all(word.isdigit() for word in words):
            problem = site_count_problem(sum(int(word) for word in words), limits)
            if problem:
                raise ValueError(f"the POSCAR lists {problem}")
            break
    return Structure.from_str(text, fmt="poscar")


def _find_beside(path: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = path.parent / name
        if candidate.exists():
            return candidate
    return None


class _StructureArchive:
    """CIFs of a structure archive of the GNoME release, or of a folder of CIFs, by the name of their file without
    its extension. ``layout`` says what names them: ``id`` (``by_id.zip``: MaterialId), ``composition``
    (``by_composition.zip``) or ``reduced_formula`` (``by_reduced_formula.zip``), from the archive's name or the
    folder its members sit in."""

    LAYOUTS = {"by_composition": "composition", "by_reduced_formula": "reduced_formula", "by_id": "id"}

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}
        self.layout = "id"
        self._by_formula: dict[str, str] | None = None

    def __enter__(self) -> "_StructureArchive":
        if self.path.is_dir():
            self.members = {p.stem: str(p) for p in self.path.iterdir() if p.suffix.lower() == ".cif"}
            self.layout = self._layout_of([self.path.name])
            return self
        try:
            self.zip = zipfile.ZipFile(self.path)
        except FileNotFoundError as exc:
            raise FileProblem(str(self.path), "no such file") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise FileProblem(str(self.path), f"unreadable or truncated zip file ({exc})") from exc
        folders = set()
        for name in self.zip.namelist():
            stem, _, ext = Path(name).name.rpartition(".")
            if ext.lower() == "cif" and stem:
                self.members[stem] = name
                folders.update(Path(name).parts[:-1])
        self.layout = self._layout_of([self.path.name.split(".")[0], *sorted(folders)])
        return self

    def _layout_of(self, names: list[str]) -> str:
        for name in names:
            for prefix, layout in self.LAYOUTS.items():
                if name.lower().startswith(prefix):
                    return layout
        return "id"

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()

    def stems(self) -> list[str]:
        return sorted(self.members)

    def _member(self, key: str) -> str | None:
        """The member named ``key``; for a formula layout also one whose name is the same formula written
        otherwise (``Li2O1`` for ``Li2O``), found through an index of the members' formulas built on first use."""
        member = self.members.get(key)
        if member is not None or self.layout == "id" or not key:
            return member
        if self._by_formula is None:
            self._by_formula = {}
            for stem, name in self.members.items():
                canonical = _canonical_formula(stem, self.layout)
                if canonical:
                    self._by_formula.setdefault(canonical, name)
        canonical = _canonical_formula(key, self.layout)
        return self._by_formula.get(canonical) if canonical else None

    def read(self, key: str) -> tuple[str, str | None]:
        """The member's name for ``key`` and its text, or None where there is none. A member that cannot be read
        (too large, corrupt, not UTF-8 text) raises ValueError: a problem of that row, not of the archive."""
        member = self._member(key)
        if member is None:
            return key, None
        size = Path(member).stat().st_size if self.zip is None else self.zip.getinfo(member).file_size
        if size > MAX_STRUCTURE_BYTES:
            raise ValueError(f"member {shown(member)} is larger than {MAX_STRUCTURE_BYTES // 2**20} MiB")
        try:
            data = Path(member).read_bytes() if self.zip is None else self.zip.read(member)
            return key, data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"member {shown(member)} is not UTF-8 text (byte {exc.start}): a binary file?"
            ) from exc
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise ValueError(f"cannot read member {shown(member)} ({_describe(exc)})") from exc


def _canonical_formula(text: str, layout: str) -> str | None:
    """``text`` as pymatgen writes that formula (reduced for the ``reduced_formula`` layout), or None."""
    if not re.fullmatch(r"(?:[A-Z][a-z]?\d*(?:\.\d+)?)+", text.replace(" ", "")):
        return None
    try:
        composition = Composition(text)
    except Exception:  # a member name that is no formula
        return None
    return composition.reduced_formula if layout == "reduced_formula" else composition.formula


@contextmanager
def _open_text(path: Path) -> Iterator[io.TextIOBase]:
    """A text file opened for streaming, with the errors of opening it as a ``FileProblem``."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except OSError as exc:
        raise FileProblem(str(path), f"unreadable file ({exc})") from exc
    with handle:
        yield handle


def _csv_columns(
    path: Path, reader: csv.DictReader, aliases: dict, required: tuple[str, ...]
) -> dict[str, str]:
    """A map from our column names to the file's headers; a ``FileProblem`` naming a missing required column."""
    try:
        headers = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable or malformed CSV ({exc})") from exc
    normalised = {re.sub(r"[^a-z0-9]", "", h.lower()): h for h in headers if h is not None}
    columns = {}
    for key, names in aliases.items():
        for name in names:
            if name in normalised:
                columns[key] = normalised[name]
                break
    missing = [key for key in required if key not in columns]
    if missing:
        wanted = ", ".join(repr(aliases[key][0]) for key in missing)
        raise FileProblem(
            str(path), f"missing column {wanted} (columns present: {', '.join(headers) or 'none'})"
        )
    return columns


def _guarded(where: str, read_row: Callable[[], Row]) -> Row:
    """``read_row()``, with anything it raises turned into a problem of that row (file and row named), so that
    one unforeseen value never escapes a reader as a raw exception or refuses a whole batch."""
    try:
        return read_row()
    except Exception as exc:
        return RowProblem(where, f"cannot read this row: {type(exc).__name__}: {_describe(exc)}")


def _as_float(value: object) -> float | None:
    """``value`` as a finite float (a number, or text of one), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | np.number):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _raw_number_problems(item: dict, *, required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
    """Keys of a raw JSON row that must hold finite numbers (JSON numbers, not text)."""
    problems = []
    for key in (*required, *optional):
        if key not in item and key in optional:
            continue
        value = item.get(key)
        if not is_number(value) or not math.isfinite(value):
            problems.append(f"{key} is {shown(value)}: it must be a finite number")
    return problems


def _element_amounts(composition: Composition) -> dict[str, float]:
    amounts: dict[str, float] = {}
    for specie, amount in composition.items():
        symbol = getattr(specie, "symbol", str(specie))
        amounts[symbol] = amounts.get(symbol, 0.0) + float(amount)
    return amounts


def _first_json_object(data: Any) -> dict | None:
    if isinstance(data, list):
        return data[0] if data and isinstance(data[0], dict) else None
    return data if isinstance(data, dict) else None


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def _jsonable(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, [], {})}
