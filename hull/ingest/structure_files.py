"""Readers of structure files: ``cif``/``poscar`` (structure files with a side CSV of file name and energy) and
``gnome-structures`` (a structure archive of the GNoME release, attached to entries already stored), with
``StructureArchive``, which also gives ``hull.ingest.gnome_csv`` the CIF of each row."""

import zipfile
from collections.abc import Iterator
from pathlib import Path

from pymatgen.core import Composition

from hull.hull_sets import OTHER
from hull.ingest.checks import DEFAULT_LIMITS, Limits, member_path_problem, shown
from hull.ingest.parsing import (
    FORMULA,
    Row,
    csv_number,
    describe,
    find_beside,
    guarded,
    parse_cif,
    parse_poscar,
    read_csv,
)
from hull.ingest.records import EntryRecord, FileProblem, RowProblem, StructureRecord

# A structure file or archive member larger than this is refused unread (a 500-site CIF is about 50 kB).
MAX_STRUCTURE_BYTES = 16 * 2**20


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
    energies = energies or find_beside(folder / "x", ("energies.csv",))
    if energies is None:
        raise FileProblem(str(path), "no energies: put energies.csv beside the files or pass --energies")
    rows, columns = read_csv(energies, ENERGY_COLUMNS, ("file",))
    if "energy" not in columns and "energy_per_atom" not in columns:
        raise FileProblem(str(energies), "missing column 'energy' (or 'energy_per_atom')")
    wanted = None if path.is_dir() else path.name
    for line_no, row in rows:
        name = (row.get(columns["file"]) or "").strip()
        if wanted is not None and name != wanted:
            continue
        where = f"{energies.name} row {line_no} ({shown(name) or 'no file name'})"
        yield guarded(
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
        energy = csv_number(row, columns, "energy")
        per_atom = csv_number(row, columns, "energy_per_atom")
        raw = csv_number(row, columns, "uncorrected_energy")
    except ValueError as exc:
        return RowProblem(where, str(exc))
    if energy is None and per_atom is None:
        return RowProblem(where, "no energy given")
    if file_path.stat().st_size > MAX_STRUCTURE_BYTES:
        return RowProblem(where, f"{shown(name)} is larger than {MAX_STRUCTURE_BYTES // 2**20} MiB")
    try:
        text = file_path.read_text(encoding="utf-8", errors="strict")
        structure = parse_cif(text, limits) if fmt == "cif" else parse_poscar(text, limits)
    except Exception as exc:
        return RowProblem(where, f"cannot read {shown(name)}: {describe(exc)}")
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


def read_gnome_structures(
    path: Path, *, limits: Limits = DEFAULT_LIMITS
) -> Iterator["StructureRecord | RowProblem"]:
    """The CIFs of a structure archive of the GNoME release (``by_id.zip``, ``by_composition.zip`` or
    ``by_reduced_formula.zip``, or a folder of CIFs), one ``StructureRecord`` per member, keyed as the archive
    names them; the ingest attaches each to the entry it names (``hull.services.structures``)."""
    with StructureArchive(path) as archive:
        for stem in archive.stems():
            where = f"{path.name} member {stem}"
            yield guarded(
                where, lambda where=where, stem=stem: _structure_member(where, stem, archive, limits)
            )


def _structure_member(where: str, stem: str, archive: "StructureArchive", limits: Limits) -> Row:
    try:
        member, text = archive.read(stem)
        structure = parse_cif(text, limits)
    except Exception as exc:
        return RowProblem(where, f"cannot read {shown(stem)}.CIF: {describe(exc)}")
    return StructureRecord(location=where, key=stem, layout=archive.layout, structure=structure)


class StructureArchive:
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

    def __enter__(self) -> "StructureArchive":
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
            raise ValueError(f"cannot read member {shown(member)} ({describe(exc)})") from exc


def _canonical_formula(text: str, layout: str) -> str | None:
    """``text`` as pymatgen writes that formula (reduced for the ``reduced_formula`` layout), or None."""
    if not FORMULA.fullmatch(text.replace(" ", "")):
        return None
    try:
        composition = Composition(text)
    except Exception:  # a member name that is no formula
        return None
    return composition.reduced_formula if layout == "reduced_formula" else composition.formula
