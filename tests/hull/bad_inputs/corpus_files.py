"""Rows of the bad-input corpus written in each format by hand (not through pymatgen), so that a bad value
reaches the file exactly as an attacker would write it; and a case's files on disk."""

import csv
import gzip
import io
import json
import math
import zipfile
from pathlib import Path

from tests.hull.bad_inputs.corpus_rows import NAN, ZIP_TIME, Case, Row, counts, num, structure_dict


def cse_dict(row: Row) -> dict:
    item = {
        "@module": "pymatgen.entries.computed_entries",
        "@class": "ComputedStructureEntry",
        "energy": row.energy,
        "composition": counts(row.species),
        "entry_id": row.id,
        "correction": 0.0,
        "energy_adjustments": [],
        "parameters": {"run_type": "GGA"},
        "data": {},
        "structure": structure_dict(row),
    }
    item.update(row.extra.get("cse", {}))
    return item


def wbm_dict(row: Row) -> dict:
    item = {
        "material_id": row.id,
        "formula": row.extra.get("formula", reduced(row.species)),
        "energy": row.energy,
        "corrected_energy": row.energy,
        "structure": structure_dict(row),
    }
    item.update(row.extra.get("wbm", {}))
    return item


def reduced(species: list[str]) -> str:
    amounts = counts(species)
    divisor = math.gcd(*[int(v) for v in amounts.values()])
    return "".join(f"{el}{int(v) // divisor if int(v) // divisor > 1 else ''}" for el, v in amounts.items())


def cell_parameters(lattice: list) -> list[float]:
    """a, b, c, alpha, beta, gamma of a lattice matrix (NaN where it holds NaN)."""
    vectors = lattice
    lengths = [math.sqrt(sum(x * x for x in v)) for v in vectors]

    def angle(i: int, j: int) -> float:
        dot = sum(x * y for x, y in zip(vectors[i], vectors[j], strict=True))
        denominator = lengths[i] * lengths[j]
        if denominator == 0 or math.isnan(dot) or math.isnan(denominator):
            return NAN if math.isnan(dot) or math.isnan(denominator) else 90.0
        return math.degrees(math.acos(max(-1.0, min(1.0, dot / denominator))))

    return [*lengths, angle(1, 2), angle(0, 2), angle(0, 1)]


def cif_text(row: Row) -> str:
    if "cif" in row.extra:
        return row.extra["cif"]
    cell = row.extra.get("cell") or [
        num(round(x, 8) if math.isfinite(x) else x) for x in cell_parameters(row.lattice)
    ]
    lines = [
        f"data_{row.id if isinstance(row.id, str) and row.id.isprintable() else 'x'}",
        "_symmetry_space_group_name_H-M   'P 1'",
        f"_cell_length_a   {cell[0]}",
        f"_cell_length_b   {cell[1]}",
        f"_cell_length_c   {cell[2]}",
        f"_cell_angle_alpha   {cell[3]}",
        f"_cell_angle_beta   {cell[4]}",
        f"_cell_angle_gamma   {cell[5]}",
        "_symmetry_Int_Tables_number   1",
        "loop_",
        " _symmetry_equiv_pos_site_id",
        " _symmetry_equiv_pos_as_xyz",
        "  1  'x, y, z'",
        "loop_",
        " _atom_site_type_symbol",
        " _atom_site_label",
        " _atom_site_symmetry_multiplicity",
        " _atom_site_fract_x",
        " _atom_site_fract_y",
        " _atom_site_fract_z",
        " _atom_site_occupancy",
    ]
    occupancy = row.extra.get("occupancy", 1)
    for i, (el, xyz) in enumerate(zip(row.species, row.frac, strict=True)):
        lines.append(f"  {el}  {el}{i}  1  {num(xyz[0])}  {num(xyz[1])}  {num(xyz[2])}  {occupancy}")
    return "\n".join(lines) + "\n"


def cif_cell_as_matrix(row: Row) -> list:
    """The lattice pymatgen will build from the CIF's cell parameters (for rows that compare with the CIF)."""
    return row.lattice


def poscar_text(row: Row) -> str:
    if "poscar" in row.extra:
        return row.extra["poscar"]
    symbols = list(dict.fromkeys(row.species))
    order = sorted(range(row.nsites), key=lambda i: symbols.index(row.species[i]))
    lines = [f"{row.id}", "1.0"]
    lines += ["  " + "  ".join(num(x) for x in vector) for vector in row.lattice]
    lines.append("  " + "  ".join(symbols))
    lines.append("  " + "  ".join(str(row.species.count(s)) for s in symbols))
    lines.append("direct")
    lines += ["  " + "  ".join(num(x) for x in row.frac[i]) + f"  {row.species[i]}" for i in order]
    return "\n".join(lines) + "\n"


def extxyz_frame(row: Row, source_id_key: str = "source_id") -> str:
    if "frame" in row.extra:
        return row.extra["frame"]
    lattice = " ".join(num(x) for vector in row.lattice for x in vector)
    cart = [[sum(f[k] * row.lattice[k][j] for k in range(3)) for j in range(3)] for f in row.frac]
    info = [f'Lattice="{lattice}"', "Properties=species:S:1:pos:R:3"]
    if row.energy is not None:
        info.append(f"energy={num(row.energy)}")
    info.append(f"{source_id_key}={row.id}")
    info += row.extra.get("info", [])
    info.append(row.extra.get("pbc", 'pbc="T T T"'))
    lines = [str(row.nsites), " ".join(info)]
    lines += [f"{el}  {num(p[0])}  {num(p[1])}  {num(p[2])}" for el, p in zip(row.species, cart, strict=True)]
    return "\n".join(lines) + "\n"


def write_rows_json(path: Path, items: list) -> None:
    text = json.dumps(items, separators=(",", ":"))
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode(), mtime=0))
    else:
        path.write_text(text + "\n")


def write_energies(folder: Path, rows: list[Row], names: list[str], extra_columns: tuple = ()) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["file", "energy", "source_id", *extra_columns])
    for row, name in zip(rows, names, strict=True):
        writer.writerow(
            [name, num(row.energy) if row.energy is not None else "", row.id, *row.extra.get("columns", [])]
        )
    (folder / "energies.csv").write_text(buffer.getvalue())


GNOME_HEADER = [
    "Composition",
    "MaterialId",
    "Reduced Formula",
    "NSites",
    "Corrected Energy",
    "Formation Energy Per Atom",
    "Bandgap",
]


def write_gnome(folder: Path, rows: list[Row]) -> None:
    folder.mkdir(parents=True)
    written = set()
    with zipfile.ZipFile(folder / "by_id.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            member = row.extra.get("member", f"by_id/{row.id}.CIF")
            if member is None or member in written:
                continue
            written.add(member)
            data = row.extra.get("member_bytes") or cif_text(row).encode()
            archive.writestr(zipfile.ZipInfo(member, date_time=ZIP_TIME), data)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GNOME_HEADER)
    for row in rows:
        formula = row.extra.get("formula", reduced(row.species))
        writer.writerow(
            [
                formula,
                row.id,
                formula,
                row.extra.get("nsites", row.nsites),
                "" if row.energy is None else num(row.energy),
                row.extra.get("formation", "-1.0"),
                row.extra.get("band_gap", "1.5"),
            ]
        )
    (folder / "stable_materials_summary.csv").write_text(buffer.getvalue())


def write_case(case: Case, base: Path) -> Path:
    """Write ``case`` under ``base/<format>/`` and return the path the ingest is given."""
    folder = base / case.fmt
    folder.mkdir(parents=True, exist_ok=True)
    if case.fmt in ("cse-json", "wbm-json"):
        path = folder / f"{case.name}.json"
        if case.write:
            case.write(path)
        else:
            render = cse_dict if case.fmt == "cse-json" else wbm_dict
            write_rows_json(
                path,
                [
                    row.extra.get("raw", render(row)) if "raw" in row.extra else render(row)
                    for row in case.rows
                ],
            )
        return path
    if case.fmt == "extxyz":
        path = folder / f"{case.name}.extxyz"
        if case.write:
            case.write(path)
        else:
            path.write_text("".join(extxyz_frame(row) for row in case.rows))
        return path
    path = folder / case.name
    if case.fmt == "gnome-csv":
        if case.write:
            path.mkdir(parents=True)
            case.write(path)
        else:
            write_gnome(path, case.rows)
        return path / "stable_materials_summary.csv"
    path.mkdir(parents=True)
    if case.write:
        case.write(path)
        return path
    names = []
    for i, row in enumerate(case.rows):
        name = row.extra.get("file") or (f"s{i}.cif" if case.fmt == "cif" else f"POSCAR_s{i}")
        names.append(name)
        if row.extra.get("no_file") or "/" in name or name.startswith(".."):
            continue
        text = cif_text(row) if case.fmt == "cif" else poscar_text(row)
        (path / name).write_bytes(row.extra["file_bytes"]) if "file_bytes" in row.extra else (
            path / name
        ).write_text(text)
    write_energies(path, case.rows, names, tuple(case.rows[0].extra.get("column_names", ())))
    return path


# --- the cases ----------------------------------------------------------------------------------------------

ROW_LABEL = {
    "cse-json": "item",
    "wbm-json": "item",
    "extxyz": "frame",
    "gnome-csv": "row",
    "cif": "row",
    "poscar": "row",
}


def label(fmt: str, index: int) -> str:
    """How the ingest names the row at ``index`` (0-based among the rows) of a file of ``fmt``."""
    if ROW_LABEL[fmt] == "row":
        return f"row {index + 2}"  # line 1 is the header
    return f"{ROW_LABEL[fmt]} {index}"
