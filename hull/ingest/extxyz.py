"""The ``extxyz`` reader: extended XYZ frames with the energy in the frame info."""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hull.hull_sets import OTHER
from hull.ingest.checks import (
    DEFAULT_LIMITS,
    MAX_CARTESIAN,
    Limits,
    coordinate_problems,
    matrix_problems,
    shown,
    site_count_problem,
)
from hull.ingest.parsing import Row, as_float, describe, guarded
from hull.ingest.records import EntryRecord, FileProblem, RowProblem


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
        raise FileProblem(str(path), f"unreadable extended XYZ ({describe(exc)})") from exc
    for i, (natoms, frame) in enumerate(_xyz_frames(str(path), text)):
        where = f"{path.name} frame {i}"
        yield guarded(
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
        return RowProblem(where, f"cannot read frame: {describe(exc)}")
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
        if as_float(value) is None
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
        return RowProblem(where, f"cannot read frame: {describe(exc)}")
    energy = as_float(energy)
    raw = info.get("uncorrected_energy")
    raw = as_float(raw) if raw is not None else energy
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
