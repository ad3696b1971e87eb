"""The ``gnome-csv`` reader: a CSV of the GNoME release (``hull.gnome_release``), with or without its structure
archive."""

import csv
from collections.abc import Iterator
from contextlib import nullcontext
from pathlib import Path

from pymatgen.core import Composition

from hull.gnome_release import PUBLISHED_HULL_COLUMNS, R2SCAN_FILE, STABLE, csv_kind
from hull.hull_sets import DFT, R2SCAN
from hull.ingest.checks import (
    CONTROL_CHARACTERS,
    DEFAULT_LIMITS,
    Limits,
    shown,
    site_count_problem,
    text_problem,
)
from hull.ingest.parsing import (
    FORMULA,
    MP2020_METHOD,
    Row,
    as_float,
    csv_columns,
    csv_number,
    describe,
    find_beside,
    guarded,
    jsonable,
    open_text,
    parse_cif,
)
from hull.ingest.records import EntryRecord, FileProblem, RowProblem
from hull.ingest.structure_files import StructureArchive

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
    entries, whose structures a later ingest of an archive attaches (``hull.ingest.structure_files``)."""
    if path.is_dir():
        candidates = sorted(path.glob("*.csv"))
        if not candidates:
            raise FileProblem(str(path), "no CSV file in this folder")
        path = candidates[0]
    structures = structures or find_beside(path, GNOME_STRUCTURE_NAMES)
    kind = csv_kind(path.name)
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        columns = csv_columns(path, reader, GNOME_COLUMNS, GNOME_REQUIRED)
        with StructureArchive(structures) if structures is not None else nullcontext() as archive:
            try:
                for i, row in enumerate(reader):
                    where = f"{path.name} row {i + 2}"
                    yield guarded(
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
    archive: StructureArchive | None,
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
        energy = csv_number(row, columns, "corrected_energy", required=True)
        raw = csv_number(row, columns, "uncorrected_energy")
        band_gap = csv_number(row, columns, "band_gap")
        nsites = csv_number(row, columns, "nsites")
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
            structure = parse_cif(text, limits)
        except Exception as exc:
            return RowProblem(where, f"cannot read {shown(member)}.CIF: {describe(exc)}")
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
        value = as_float(row.get(columns[key])) if key in columns else None
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
        data=jsonable(data),
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
    if not FORMULA.fullmatch(text.replace(" ", "")):
        return f"column {columns[key]!r} is {shown(text)!r}, not a formula"
    try:
        composition = Composition(text)
    except Exception as exc:
        return f"column {columns[key]!r} is {shown(text)!r}, not a formula ({describe(exc)})"
    if composition.num_atoms <= 0:
        return f"column {columns[key]!r} is {shown(text)!r}: no atoms"
    if nsites is not None and nsites > composition.num_atoms:
        units = nsites / composition.num_atoms
        if abs(units - round(units)) < 1e-6:
            composition = composition * round(units)
    return composition


def _csv_symmetry(row: dict, columns: dict) -> dict | None:
    """The space group the CSV gives (kept for an entry without a structure, whose own cannot be computed)."""
    number = csv_number(row, columns, "space_group_number")
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
