"""Readers for each ingest format. Each yields ``EntryRecord`` for good rows and ``RowProblem`` for bad
ones, and raises ``FileProblem`` when the file as a whole cannot be read.

Formats:
- ``cse-json``: pymatgen ``ComputedStructureEntry``/``ComputedEntry`` dicts (a list or one object), ``.json[.gz]``
- ``wbm-json``: dicts with ``material_id``, ``structure``, ``energy`` and ``corrected_energy`` (eV/cell)
- ``gnome-csv``: the GNoME release's ``stable_materials_summary.csv`` with structures in ``by_id.zip``
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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pymatgen.core import Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from hull.hull_sets import DFT, ML_POTENTIAL, OTHER
from hull.ingest.records import EntryRecord, FileProblem, RowProblem

FORMATS = ("cse-json", "wbm-json", "gnome-csv", "cif", "poscar", "extxyz")
MP2020_METHOD = "GGA/GGA+U (MP2020)"
DFT_RUN_TYPES = {"GGA", "GGA+U", "PBE", "PBE+U", "R2SCAN", "SCAN", "PBESOL", "HSE", "LDA"}
POSCAR_NAMES = re.compile(r"^(POSCAR|CONTCAR)([._-].*)?$|\.(vasp|poscar)$", re.IGNORECASE)

Row = EntryRecord | RowProblem


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
    if name.endswith(".cif"):
        return "cif"
    if name.endswith((".xyz", ".extxyz")):
        return "extxyz"
    if POSCAR_NAMES.search(path.name):
        return "poscar"
    raise FileProblem(str(path), "cannot tell the format from the file name: use --format")


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


def read_cse_json(path: Path, *, method: str | None = None) -> Iterator[Row]:
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
        if not isinstance(item, dict):
            yield RowProblem(where, "not a JSON object")
            continue
        entry_id = item.get("entry_id")
        if entry_id:
            where += f" ({entry_id})"
        else:
            yield RowProblem(where, "no entry_id: every entry needs an id")
            continue
        try:
            entry = _computed_entry_from_dict(item)
        except Exception as exc:  # pymatgen raises many types for bad dicts
            yield RowProblem(where, f"cannot read entry: {_describe(exc)}")
            continue
        parameters = entry.parameters or {}
        structure = entry.structure if isinstance(entry, ComputedStructureEntry) else None
        yield EntryRecord(
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


def read_wbm_json(path: Path, *, method: str | None = None) -> Iterator[Row]:
    """The WBM sample: raw and MP2020-corrected energies per cell."""
    items = load_json(path)
    if not isinstance(items, list):
        raise FileProblem(str(path), "expected a list of WBM dicts")
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        if not isinstance(item, dict):
            yield RowProblem(where, "not a JSON object")
            continue
        material_id = item.get("material_id")
        if not material_id:
            yield RowProblem(where, "no material_id")
            continue
        where += f" ({material_id})"
        missing = [key for key in ("structure", "energy", "corrected_energy") if item.get(key) is None]
        if missing:
            yield RowProblem(where, f"missing {', '.join(missing)}")
            continue
        try:
            structure = Structure.from_dict(item["structure"])
            energy = float(item["corrected_energy"])
            raw = float(item["energy"])
        except Exception as exc:
            yield RowProblem(where, f"cannot read entry: {_describe(exc)}")
            continue
        yield EntryRecord(
            location=where,
            source_id=str(material_id),
            composition=structure.composition,
            structure=structure,
            energy=energy,
            uncorrected_energy=raw,
            correction=energy - raw if math.isfinite(energy - raw) else energy,
            method=method or MP2020_METHOD,
            method_family=DFT,
            expected_formula=item.get("formula"),
        )


# GNoME summary columns, keyed by their name lower-cased with everything but letters and digits removed.
GNOME_COLUMNS = {
    "material_id": ("materialid", "id"),
    "composition": ("composition",),
    "reduced_formula": ("reducedformula",),
    "nsites": ("nsites", "numberofsites"),
    "corrected_energy": ("correctedenergy", "energycorrected", "totalenergy"),
    "uncorrected_energy": ("uncorrectedenergy", "energyuncorrected"),
    "formation_energy_per_atom": ("formationenergyperatom",),
    "decomposition_energy_per_atom": ("decompositionenergyperatom",),
    "dimensionality_cheon": ("dimensionalitycheon",),
    "band_gap": ("bandgap",),
    "space_group_number": ("spacegroupnumber",),
}
GNOME_REQUIRED = ("material_id", "corrected_energy")


def read_gnome_csv(path: Path, *, structures: Path | None = None, method: str | None = None) -> Iterator[Row]:
    """The GNoME release: ``stable_materials_summary.csv`` and the CIFs of ``by_id.zip`` (``<MaterialId>.CIF``)."""
    if path.is_dir():
        candidates = sorted(path.glob("*.csv"))
        if not candidates:
            raise FileProblem(str(path), "no CSV file in this folder")
        path = candidates[0]
    structures = structures or _find_beside(path, ("by_id.zip", "by_id"))
    if structures is None:
        raise FileProblem(str(path), "no structures: put by_id.zip beside the CSV or pass --structures")
    rows, columns = _read_csv(path, GNOME_COLUMNS, GNOME_REQUIRED)
    with _StructureArchive(structures) as archive:
        for line_no, row in rows:
            where = f"{path.name} row {line_no}"
            material_id = (row.get(columns["material_id"]) or "").strip()
            if not material_id:
                yield RowProblem(where, "empty MaterialId")
                continue
            where += f" ({material_id})"
            try:
                energy = _number(row, columns, "corrected_energy")
                raw = _number(row, columns, "uncorrected_energy")
                band_gap = _number(row, columns, "band_gap")
                nsites = _number(row, columns, "nsites")
            except ValueError as exc:
                yield RowProblem(where, str(exc))
                continue
            text = archive.read(material_id)
            if text is None:
                yield RowProblem(where, f"no structure {material_id}.CIF in {structures.name}")
                continue
            try:
                structure = _parse_cif(text)
            except Exception as exc:
                yield RowProblem(where, f"cannot read {material_id}.CIF: {_describe(exc)}")
                continue
            extras = {
                key: row.get(columns[key])
                for key in (
                    "formation_energy_per_atom",
                    "decomposition_energy_per_atom",
                    "dimensionality_cheon",
                )
                if key in columns and row.get(columns[key]) not in (None, "")
            }
            formula = row.get(columns["reduced_formula"]) if "reduced_formula" in columns else None
            formula = formula or (row.get(columns["composition"]) if "composition" in columns else None)
            yield EntryRecord(
                location=where,
                source_id=material_id,
                composition=structure.composition,
                structure=structure,
                energy=energy,
                uncorrected_energy=raw if raw is not None else energy,
                correction=energy - raw if raw is not None else 0.0,
                method=method or MP2020_METHOD,
                method_family=DFT,
                band_gap=band_gap,
                data={"source_columns": extras, "correction_known": raw is not None},
                expected_formula=formula,
                expected_nsites=int(nsites) if nsites is not None else None,
            )


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
        where = f"{energies.name} row {line_no} ({name or 'no file name'})"
        if not name:
            yield RowProblem(where, "empty file name")
            continue
        file_path = folder / name
        if not file_path.is_file():
            yield RowProblem(where, f"no such file {name} in {folder}")
            continue
        try:
            text = file_path.read_text(encoding="utf-8", errors="strict")
            structure = _parse_cif(text) if fmt == "cif" else Structure.from_str(text, fmt="poscar")
        except Exception as exc:
            yield RowProblem(where, f"cannot read {name}: {_describe(exc)}")
            continue
        try:
            energy = _number(row, columns, "energy")
            per_atom = _number(row, columns, "energy_per_atom")
            raw = _number(row, columns, "uncorrected_energy")
        except ValueError as exc:
            yield RowProblem(where, str(exc))
            continue
        if energy is None and per_atom is None:
            yield RowProblem(where, "no energy given")
            continue
        if energy is None:
            energy = per_atom * len(structure)
        yield EntryRecord(
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


def read_extxyz(path: Path, *, method: str | None = None, method_family: str | None = None) -> Iterator[Row]:
    """Extended XYZ frames; the energy (eV per cell) is the frame's ``energy`` info or calculator energy."""
    from ase.io import read as ase_read
    from pymatgen.io.ase import AseAtomsAdaptor

    try:
        frames = ase_read(str(path), index=":", format="extxyz")
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except Exception as exc:
        raise FileProblem(str(path), f"unreadable extended XYZ ({_describe(exc)})") from exc
    for i, atoms in enumerate(frames):
        info = dict(atoms.info)
        source_id = str(
            info.get("source_id") or info.get("material_id") or info.get("id") or f"{path.stem}-{i}"
        )
        where = f"{path.name} frame {i} ({source_id})"
        energy = info.get("energy")
        if energy is None and atoms.calc is not None:
            energy = atoms.calc.results.get("energy")
        if energy is None:
            yield RowProblem(where, "no energy in the frame info")
            continue
        if not atoms.pbc.all() or atoms.cell.volume <= 0:
            yield RowProblem(where, 'not a periodic crystal (needs a Lattice and pbc="T T T")')
            continue
        try:
            energy = float(energy)
            structure = AseAtomsAdaptor.get_structure(atoms)
        except Exception as exc:
            yield RowProblem(where, f"cannot read frame: {_describe(exc)}")
            continue
        raw = info.get("uncorrected_energy")
        yield EntryRecord(
            location=where,
            source_id=source_id,
            composition=structure.composition,
            structure=structure,
            energy=energy,
            uncorrected_energy=float(raw) if raw is not None else energy,
            correction=energy - float(raw) if raw is not None else 0.0,
            method=str(info.get("method") or method or "unspecified"),
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
    if run_type in DFT_RUN_TYPES or parameters.get("potcar_symbols"):
        return DFT
    if run_type in {"CHGNET", "M3GNET", "MACE", "SEVENNET", "MLIP"}:
        return ML_POTENTIAL
    return DFT if not parameters else OTHER


def _read_csv(path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """Rows of a CSV and a map from our column names to the file's headers, read defensively."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable file ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = reader.fieldnames or []
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
    try:
        rows = [(i + 2, row) for i, row in enumerate(reader)]
    except csv.Error as exc:
        raise FileProblem(str(path), f"malformed CSV ({exc})") from exc
    return rows, columns


def _number(row: dict, columns: dict, key: str) -> float | None:
    if key not in columns:
        return None
    raw = row.get(columns[key])
    if raw is None or str(raw).strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"column {columns[key]!r} is {raw!r}, not a number") from exc
    if not math.isfinite(value):
        raise ValueError(f"column {columns[key]!r} is {raw!r}: it must be a finite number")
    return value


def _parse_cif(text: str) -> Structure:
    import warnings

    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = CifParser.from_str(text, site_tolerance=1e-6)
        structures = parser.parse_structures(primitive=False, on_error="raise")
    if not structures:
        raise ValueError("no structure in the CIF")
    return structures[0]


def _find_beside(path: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = path.parent / name
        if candidate.exists():
            return candidate
    return None


class _StructureArchive:
    """CIFs by material id from ``by_id.zip`` (members ``[folder/]<id>.CIF``) or a folder of CIFs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        self.members: dict[str, str] = {}

    def __enter__(self) -> "_StructureArchive":
        if self.path.is_dir():
            self.members = {p.stem: str(p) for p in self.path.iterdir() if p.suffix.lower() == ".cif"}
            return self
        try:
            self.zip = zipfile.ZipFile(self.path)
        except FileNotFoundError as exc:
            raise FileProblem(str(self.path), "no such file") from exc
        except (zipfile.BadZipFile, OSError) as exc:
            raise FileProblem(str(self.path), f"unreadable or truncated zip file ({exc})") from exc
        for name in self.zip.namelist():
            stem, _, ext = Path(name).name.rpartition(".")
            if ext.lower() == "cif" and stem:
                self.members[stem] = name
        return self

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()

    def read(self, material_id: str) -> str | None:
        member = self.members.get(material_id)
        if member is None:
            return None
        try:
            if self.zip is None:
                return Path(member).read_text(encoding="utf-8")
            return self.zip.read(member).decode("utf-8")
        except (zipfile.BadZipFile, OSError, UnicodeDecodeError, EOFError) as exc:
            raise FileProblem(str(self.path), f"cannot read member {member} ({exc})") from exc


def _first_json_object(data: Any) -> dict | None:
    if isinstance(data, list):
        return data[0] if data and isinstance(data[0], dict) else None
    return data if isinstance(data, dict) else None


def _describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def _jsonable(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, [], {})}
