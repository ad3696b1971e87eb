"""Write a small GNoME release (the files users download, with the published columns) from the real Li-O space of
``../shared/data/mp_entries.json.gz``:

- ``gnome_data/stable_materials_summary.csv``: GNoME materials (real small Li-O structures under GNoME-style ids,
  their MP2020 energies moved by a few meV/atom), with the release's published hull columns computed by pymatgen's
  ``PhaseDiagram`` over the release's own hull (GNoME plus the MP entries shifted to GNoME's pseudopotentials);
- ``gnome_data/stable_materials_r2scan.csv``: the same materials and the elements, on another energy scale;
- ``external_data/external_materials_summary.csv`` and ``mp_snapshot_summary.csv``: the real MP entries;
- ``by_id.zip``, ``by_composition.zip``, ``by_reduced_formula.zip`` (in ``archives/``, not beside the CSVs).

Every CSV is written as pandas writes it, with its unnamed index column, or without it (``index=False``).

    .venv/bin/python tests/hull/gnome_release_files.py OUT_DIR [--no-index]
"""

import csv
import gzip
import json
import os
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("PORTAL_SHARED_DATA", ROOT.parent / "shared" / "data"))

STABLE_COLUMNS = [
    "Composition",
    "MaterialId",
    "Reduced Formula",
    "Elements",
    "NSites",
    "Volume",
    "Density",
    "Point Group",
    "Space Group",
    "Space Group Number",
    "Crystal System",
    "Uncorrected Energy",
    "Corrected Energy",
    "Formation Energy Per Atom",
    "Decomposition Energy Per Atom",
    "Dimensionality Cheon",
    "Bandgap",
    "Is Train",
    "Decomposition Energy Per Atom All",
    "Decomposition Energy Per Atom Relative",
    "Decomposition Energy Per Atom MP",
    "Decomposition Energy Per Atom MP OQMD",
]
EXTERNAL_COLUMNS = [
    "Composition",
    "MaterialId",
    "Reduced Formula",
    "Elements",
    "NSites",
    "Corrected Energy",
    "Decomposition Energy Per Atom All",
    "Decomposition Energy Per Atom MP",
    "Directory",
]
R2SCAN_OFFSET = -0.5  # eV/atom: the r2SCAN file's energies sit on a scale of their own
PLANTED = 0.05  # eV/atom added to one published value by ``plant_disagreement``


@dataclass
class Release:
    folder: Path
    stable: Path
    r2scan: Path
    external: Path
    mp_snapshot: Path
    archives: dict[str, Path]  # layout -> zip
    gnome: list[dict]  # the GNoME rows as written
    mp: list[dict]  # the MP entries (composition, energy, id)


def mp_li_o() -> list[dict]:
    with gzip.open(SHARED / "mp_entries.json.gz", "rt") as handle:
        items = json.load(handle)
    return [item for item in items if set(item["composition"]) <= {"Li", "O"}]


def write_release(folder: Path, *, index: bool = True) -> Release:
    """Write the release under ``folder`` and say where each file is."""
    from pymatgen.analysis.phase_diagram import PhaseDiagram
    from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry
    from pymatgen.io.cif import CifWriter
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from hull.gnome_release import pseudopotential_shift

    items = mp_li_o()
    mp = []
    for item in items:
        entry = ComputedStructureEntry.from_dict(item)
        mp.append({"id": item["entry_id"], "entry": entry, "structure": entry.structure})
    # GNoME materials: small compounds of distinct formulas, so that each archive layout names each one once
    gnome, formulas = [], set()
    for i, row in enumerate(sorted(mp, key=lambda r: (len(r["structure"]), r["id"]))):
        structure = row["structure"]
        formula = structure.composition.reduced_formula
        if len(structure.composition) < 2 or formula in formulas or len(structure) > 12:
            continue
        formulas.add(formula)
        per_atom = row["entry"].energy_per_atom + 0.004 * ((i % 5) - 2)
        gnome.append(
            {
                "id": f"{0x3F00A1 + i:010x}",
                "structure": structure,
                "energy": per_atom * len(structure),
                "uncorrected": row["entry"].uncorrected_energy_per_atom * len(structure),
            }
        )
        if len(gnome) == 6:
            break
    # the release's own hull: GNoME entries and the MP entries on GNoME's pseudopotentials
    pool = [ComputedEntry(g["structure"].composition, g["energy"], entry_id=g["id"]) for g in gnome]
    for row in mp:
        comp = row["entry"].composition
        shift = sum(pseudopotential_shift({el.symbol: amt for el, amt in comp.items()}).values())
        pool.append(ComputedEntry(comp, row["entry"].energy + shift, entry_id=row["id"]))
    diagram = PhaseDiagram(pool)
    by_id = {entry.entry_id: entry for entry in pool}

    def decomposition(entry_id: str) -> str:
        entry = by_id[entry_id]
        if diagram.get_e_above_hull(entry) > 1e-9 or len(entry.composition) == 1:
            return repr(float(diagram.get_e_above_hull(entry)))
        return repr(float(diagram.get_decomp_and_phase_separation_energy(entry)[1]))

    gnome_rows = []
    for g in gnome:
        structure, comp = g["structure"], g["structure"].composition
        analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
        e_decomp = decomposition(g["id"])
        gnome_rows.append(
            {
                "Composition": comp.formula.replace(" ", ""),
                "MaterialId": g["id"],
                "Reduced Formula": comp.reduced_formula,
                "Elements": json.dumps(sorted(el.symbol for el in comp)).replace('"', "'"),
                "NSites": len(structure),
                "Volume": f"{structure.volume:.6f}",
                "Density": f"{structure.density:.6f}",
                "Point Group": analyzer.get_point_group_symbol(),
                "Space Group": analyzer.get_space_group_symbol(),
                "Space Group Number": analyzer.get_space_group_number(),
                "Crystal System": analyzer.get_crystal_system(),
                "Uncorrected Energy": repr(g["uncorrected"]),
                "Corrected Energy": repr(g["energy"]),
                "Formation Energy Per Atom": repr(float(diagram.get_form_energy_per_atom(by_id[g["id"]]))),
                "Decomposition Energy Per Atom": e_decomp,
                "Dimensionality Cheon": 3,
                "Bandgap": "4.5",
                "Is Train": "True",
                "Decomposition Energy Per Atom All": e_decomp,
                "Decomposition Energy Per Atom Relative": e_decomp,
                "Decomposition Energy Per Atom MP": e_decomp,
                "Decomposition Energy Per Atom MP OQMD": e_decomp,
            }
        )
    external_rows = []
    for row in mp:
        comp = row["entry"].composition
        external_rows.append(
            {
                "Composition": comp.formula.replace(" ", ""),
                "MaterialId": row["id"],
                "Reduced Formula": comp.reduced_formula,
                "Elements": json.dumps(sorted(el.symbol for el in comp)).replace('"', "'"),
                "NSites": round(comp.num_atoms),
                "Corrected Energy": repr(row["entry"].energy),
                "Decomposition Energy Per Atom All": decomposition(row["id"]),
                "Decomposition Energy Per Atom MP": decomposition(row["id"]),
                "Directory": f"mp/{row['id']}",
            }
        )
    # r2SCAN: the GNoME materials and the lowest-energy elements, on their own scale
    elements = {}
    for row in mp:
        comp = row["entry"].composition
        if len(comp) == 1:
            symbol = comp.elements[0].symbol
            if (
                symbol not in elements
                or row["entry"].energy_per_atom < elements[symbol]["entry"].energy_per_atom
            ):
                elements[symbol] = row
    r2scan_rows = [
        {
            **{key: value for key, value in g.items() if key in EXTERNAL_COLUMNS},
            "Corrected Energy": repr(float(g["Corrected Energy"]) + R2SCAN_OFFSET * g["NSites"]),
        }
        for g in gnome_rows
    ]
    for symbol, row in sorted(elements.items()):
        comp = row["entry"].composition
        r2scan_rows.append(
            {
                "Composition": comp.formula.replace(" ", ""),
                "MaterialId": f"r2scan-{symbol}",
                "Reduced Formula": comp.reduced_formula,
                "Elements": f"['{symbol}']",
                "NSites": round(comp.num_atoms),
                "Corrected Energy": repr(row["entry"].energy + R2SCAN_OFFSET * comp.num_atoms),
            }
        )
    data, external = folder / "gnome_data", folder / "external_data"
    data.mkdir(parents=True, exist_ok=True)
    external.mkdir(parents=True, exist_ok=True)
    release = Release(
        folder=folder,
        stable=write_csv(data / "stable_materials_summary.csv", STABLE_COLUMNS, gnome_rows, index),
        r2scan=write_csv(
            data / "stable_materials_r2scan.csv",
            ["Composition", "MaterialId", "Reduced Formula", "Elements", "NSites", "Corrected Energy"],
            r2scan_rows,
            index,
        ),
        external=write_csv(
            external / "external_materials_summary.csv", EXTERNAL_COLUMNS, external_rows, index
        ),
        mp_snapshot=write_csv(
            external / "mp_snapshot_summary.csv", EXTERNAL_COLUMNS, external_rows[::2], index
        ),
        archives={},
        gnome=gnome_rows,
        mp=[
            {"id": row["id"], "energy": row["entry"].energy, "composition": row["entry"].composition}
            for row in mp
        ],
    )
    archives = folder / "archives"
    archives.mkdir(exist_ok=True)
    for layout, column in (
        ("id", "MaterialId"),
        ("composition", "Composition"),
        ("reduced_formula", "Reduced Formula"),
    ):
        path = archives / f"by_{layout}.zip"
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for g, row in zip(gnome, gnome_rows, strict=True):
                archive.writestr(f"by_{layout}/{row[column]}.CIF", str(CifWriter(g["structure"])))
        release.archives[layout] = path
    return release


def write_csv(path: Path, columns: list[str], rows: list[dict], index: bool) -> Path:
    """As pandas' ``DataFrame.to_csv`` writes it: with a leading unnamed index column unless ``index`` is false."""
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(([""] if index else []) + columns)
        for i, row in enumerate(rows):
            writer.writerow(([i] if index else []) + [row.get(column, "") for column in columns])
    return path


def plant_disagreement(
    path: Path, material_id: str, column: str = "Decomposition Energy Per Atom All"
) -> float:
    """Move one published value of ``path`` by ``PLANTED`` eV/atom; returns the new value."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    at, id_at = rows[0].index(column), rows[0].index("MaterialId")
    for row in rows[1:]:
        if row[id_at] == material_id:
            row[at] = repr(float(row[at]) + PLANTED)
            value = float(row[at])
    with open(path, "w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return value


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    out = write_release(Path(sys.argv[1]), index="--no-index" not in sys.argv)
    print(f"wrote {out.folder}: {len(out.gnome)} GNoME rows, {len(out.mp)} MP rows")
