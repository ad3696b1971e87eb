"""Catalogue fixture files (every ingest format), written from the real shared data into a temporary folder."""

import csv
import gzip
import json
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from pymatgen.core import Structure
from pymatgen.io.cif import CifWriter

from tests.conftest import subset


@contextmanager
def ingested_until_exit(django_db_blocker, path: Path, **kwargs) -> Iterator[None]:
    """``path`` ingested inside a transaction that is rolled back on exit: a catalogue that a module-scoped fixture
    loads once and every test of the module reads (each test runs in a savepoint inside it)."""
    from django.db import transaction

    from hull.services.ingest import ingest_file

    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            ingest_file(path=path, **kwargs)
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def write_json(path: Path, data) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt") as handle:
        json.dump(data, handle)
    return path


@pytest.fixture
def li_o_entries(mp_entry_dicts) -> list[dict]:
    """The real Li-O space of the MP file: 9 Li, 23 O and 25 Li-O entries."""
    return subset(mp_entry_dicts, {"Li", "O"})


@pytest.fixture
def li_o_file(tmp_path, li_o_entries) -> Path:
    return write_json(tmp_path / "li_o.json.gz", li_o_entries)


@pytest.fixture
def small_structures(mp_entry_dicts) -> list[tuple[str, Structure, float]]:
    """A dozen real Li-O structures (at most 12 sites) with their corrected energies."""
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    out = []
    for item in subset(mp_entry_dicts, {"Li", "O"}):
        entry = ComputedStructureEntry.from_dict(item)
        if len(entry.structure) <= 12:
            out.append((entry.entry_id, entry.structure, entry.energy))
    return out[:12]


@pytest.fixture
def gnome_release(tmp_path, small_structures) -> Path:
    """A GNoME-style release: stable_materials_summary.csv and by_id.zip of <MaterialId>.CIF members."""
    folder = tmp_path / "gnome"
    folder.mkdir()
    with zipfile.ZipFile(folder / "by_id.zip", "w") as archive:
        for i, (_, structure, _) in enumerate(small_structures):
            archive.writestr(f"by_id/gn-{i:04d}.CIF", str(CifWriter(structure)))
    header = [
        "Composition",
        "MaterialId",
        "Reduced Formula",
        "Elements",
        "NSites",
        "Volume",
        "Space Group Number",
        "Corrected Energy",
        "Formation Energy Per Atom",
        "Decomposition Energy Per Atom",
        "Dimensionality Cheon",
        "Bandgap",
        "Is Train",
    ]
    with open(folder / "stable_materials_summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for i, (_, structure, energy) in enumerate(small_structures):
            comp = structure.composition
            writer.writerow(
                [
                    comp.formula.replace(" ", ""),
                    f"gn-{i:04d}",
                    comp.reduced_formula,
                    str([el.symbol for el in comp.elements]),
                    len(structure),
                    structure.volume,
                    12,
                    energy,
                    -1.0,
                    0.0,
                    3,
                    4.5 if i % 2 else "",
                    True,
                ]
            )
    return folder / "stable_materials_summary.csv"


@pytest.fixture
def cif_folder(tmp_path, small_structures) -> Path:
    folder = tmp_path / "cifs"
    folder.mkdir()
    with open(folder / "energies.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "energy"])
        for source_id, structure, energy in small_structures:
            (folder / f"{source_id}.cif").write_text(str(CifWriter(structure)))
            writer.writerow([f"{source_id}.cif", energy])
    return folder


@pytest.fixture
def poscar_folder(tmp_path, small_structures) -> Path:
    folder = tmp_path / "poscars"
    folder.mkdir()
    with open(folder / "energies.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "energy_per_atom", "source_id"])
        for source_id, structure, energy in small_structures:
            name = f"POSCAR_{source_id}"
            structure.to(filename=str(folder / name), fmt="poscar")
            writer.writerow([name, energy / len(structure), source_id])
    return folder


@pytest.fixture
def extxyz_file(tmp_path, small_structures) -> Path:
    from ase.io import write
    from pymatgen.io.ase import AseAtomsAdaptor

    frames = []
    for source_id, structure, energy in small_structures:
        atoms = AseAtomsAdaptor.get_atoms(structure)
        atoms.info["energy"] = energy
        atoms.info["source_id"] = source_id
        frames.append(atoms)
    path = tmp_path / "frames.extxyz"
    write(str(path), frames, format="extxyz")
    return path
