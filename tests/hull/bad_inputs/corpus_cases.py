"""The cases of the bad-input corpus: per format, a few good rows with one or more bad ones (or a file refused
as a whole), each with the fragment of the error it must get."""

import gzip
import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.hull.bad_inputs.corpus_files import cif_text, cse_dict, poscar_text, reduced, wbm_dict, write_gnome
from tests.hull.bad_inputs.corpus_rows import (
    INF,
    NAN,
    POOL,
    Case,
    Row,
    good,
    many_elements,
    many_sites,
    ref_energy,
)


def with_bad(k: int, bad: Row | list[Row], position: int | None = None, n_good: int = 3) -> list[Row]:
    rows = good(k, n_good)
    bads = bad if isinstance(bad, list) else [bad]
    at = (k % (n_good + 1)) if position is None else position
    return rows[:at] + bads + rows[at:]


def variant(cases: list[Case], fmt: str, name: str, k: int, fragment: str, **changes) -> None:
    """Add case ``name``: good rows and one bad row made from a pool row, its ``id`` or ``energy`` replaced and
    everything else in ``changes`` put in its ``extra``."""
    row = POOL[k % len(POOL)].copy(id=f"{fmt}-bad-{k}", bad=fragment)
    for key, value in changes.items():
        if key in ("id", "energy"):
            setattr(row, key, value)
        else:
            row.extra[key] = value
    cases.append(Case(name, fmt, with_bad(k, row)))


def shared_attacks(fmt: str) -> list[tuple[str, Callable[[Row], Row]]]:
    """Attacks that every format can carry: each makes a bad row from a good one."""
    cif_like = fmt in ("cif", "gnome-csv")

    def energy(value, fragment):
        return lambda r: r.copy(energy=value, bad=fragment)

    def coordinate(value, fragment):
        def make(r):
            frac = [list(c) for c in r.frac]
            frac[0][1] = value
            return r.copy(frac=frac, bad=fragment)

        return make

    def lattice(value, fragment, row=0, col=0):
        def make(r):
            matrix = [list(v) for v in r.lattice]
            matrix[row][col] = value
            return r.copy(lattice=matrix, bad=fragment)

        return make

    def per_atom(value, fragment):
        return lambda r: r.copy(energy=value * r.nsites, bad=fragment)

    def formation(offset, fragment):
        return lambda r: r.copy(energy=round(ref_energy(r.species) + offset * r.nsites, 6), bad=fragment)

    attacks = [
        ("energy_nan", energy(NAN, "finite")),
        ("energy_inf", energy(INF, "finite")),
        ("energy_minus_inf", energy(-INF, "finite")),
        ("energy_minus_250000_per_atom", per_atom(-250000.0, "from the elemental references")),
        ("energy_minus_1e308", energy(-1e308, "from the elemental references")),
        ("energy_plus_1e308", energy(1e308, "from the elemental references")),
        ("energy_formation_minus_7", formation(-7.0, "from the elemental references")),
        ("energy_formation_plus_6", formation(6.0, "from the elemental references")),
        ("energy_plus_100_per_atom", per_atom(100.0, "from the elemental references")),
        ("energy_string", energy("abc", "abc")),
        # pymatgen's CIF parser refuses a non-finite coordinate itself, and wraps a huge one into the cell
        ("coordinate_nan", coordinate(NAN, "cannot read" if cif_like else "finite")),
        ("coordinate_inf", coordinate(INF, "cannot read" if cif_like else "finite")),
        ("lattice_nan", lattice(NAN, "finite")),
        ("lattice_inf", lattice(INF, "finite")),
        ("too_many_sites", lambda r: many_sites().copy(bad="at most 500")),
        ("elements_24", lambda r: many_elements(24).copy(bad="at most 10")),
        ("elements_11", lambda r: many_elements(11).copy(bad="at most 10")),
        ("overlapping_sites", coordinate_pair_overlap),
        ("id_too_long", lambda r: r.copy(id="mp-" + "9" * 200, bad="at most 128")),
        ("id_control_character", lambda r: r.copy(id="mp-12\x0734", bad="control character")),
        ("lattice_singular", singular("" if fmt in ("cif", "gnome-csv") else "singular")),
    ]
    if not cif_like:
        attacks.append(("coordinate_huge", coordinate(1e300, "far outside")))
    attacks.append(("unknown_element", lambda r: r.copy(species=["Xx", *r.species[1:]], bad="")))
    return attacks


def singular(fragment: str) -> Callable[[Row], Row]:
    """Two equal lattice vectors: volume 0 (a CIF's cell parameters then make pymatgen fail first)."""

    def make(r: Row) -> Row:
        matrix = [list(v) for v in r.lattice]
        matrix[2] = list(matrix[0])
        return r.copy(lattice=matrix, bad=fragment)

    return make


def coordinate_pair_overlap(r: Row) -> Row:
    row = POOL[next(i for i, p in enumerate(POOL) if p.nsites >= 2)].copy()
    frac = [list(c) for c in row.frac]
    frac[1] = [frac[0][0] + 0.001, frac[0][1], frac[0][2]]
    return row.copy(id="overlap-1", frac=frac, bad="overlapping sites")


def shared_cases(fmt: str, start: int) -> list[Case]:
    cases = []
    for k, (name, attack) in enumerate(shared_attacks(fmt), start=start):
        bad = attack(POOL[k % len(POOL)].copy())
        if bad.id == POOL[k % len(POOL)].id:
            bad.id = f"{bad.id}-bad"
        cases.append(Case(name, fmt, with_bad(k, bad)))
    # a file with several bad rows and the duplicate of a good one
    k = start + 50
    rows = good(k, 3)
    rows.insert(1, rows[0].copy(energy=NAN, bad="finite"))
    rows[1].id = "dup-nan"
    rows.append(rows[0].copy(bad="duplicate id"))
    rows.append(many_sites().copy(bad="at most 500"))
    cases.append(Case("several_bad_rows", fmt, rows))
    return cases


def cse_cases() -> list[Case]:
    fmt = "cse-json"
    cases = shared_cases(fmt, 0)

    def composition_entry(row_id, composition, energy, fragment):
        raw = {
            "@module": "pymatgen.entries.computed_entries",
            "@class": "ComputedEntry",
            "energy": energy,
            "composition": composition,
            "entry_id": row_id,
            "correction": 0.0,
            "parameters": {"run_type": "GGA"},
            "data": {},
        }
        return POOL[0].copy(id=row_id, bad=fragment, extra={"raw": raw})

    def raw_case(name, k, raw_row):
        cases.append(Case(name, fmt, with_bad(k, raw_row)))

    raw_case(
        "amount_nan_li_o", 1, composition_entry("nan-li", {"Li": NAN, "O": 1}, -10.0, "amount of Li is nan")
    )
    raw_case("amount_inf", 2, composition_entry("inf-li", {"Li": INF, "O": 1}, -10.0, "finite"))
    raw_case("amount_negative", 3, composition_entry("neg-li", {"Li": -2, "O": 1}, -10.0, "positive"))
    raw_case("amount_zero", 4, composition_entry("zero-li", {"Li": 0, "O": 1}, -10.0, "positive"))
    raw_case("amount_1e20", 5, composition_entry("big-li", {"Li": 1e20, "O": 1e20}, -1e21, "at most"))
    raw_case("amount_1e7", 6, composition_entry("big7-li", {"Li": 1e7}, -1.9e7, "at most"))
    raw_case("amount_string", 7, composition_entry("str-li", {"Li": "2", "O": 1}, -14.0, "finite number"))
    raw_case("amount_bool", 8, composition_entry("bool-li", {"Li": True, "O": 1}, -10.0, "finite number"))
    raw_case("amount_null", 9, composition_entry("null-li", {"Li": None, "O": 1}, -10.0, "finite number"))
    raw_case("composition_empty", 10, composition_entry("empty-comp", {}, -10.0, "non-empty"))
    raw_case("composition_list", 11, composition_entry("list-comp", ["Li", "O"], -10.0, "non-empty mapping"))
    raw_case(
        "composition_fraction_of_atom",
        12,
        composition_entry("tiny", {"Li": 0.2, "O": 0.1}, -1.5, "less than one atom"),
    )
    raw_case(
        "composition_24_elements",
        13,
        composition_entry(
            "comp-24",
            dict.fromkeys(many_elements(24).species, 1.0),
            ref_energy(many_elements(24).species),
            "at most 10",
        ),
    )
    raw_case(
        "composition_minus_250000",
        14,
        composition_entry("deep-o", {"O": 1}, -250000.0, "from the elemental references"),
    )
    raw_case("composition_unknown_element", 15, composition_entry("xx", {"Xx": 1}, -1.0, ""))

    def cse_patch(name, k, patch, fragment, row_id=None):
        row = POOL[k % len(POOL)].copy(id=row_id or f"patched-{k}", bad=fragment)
        item = cse_dict(row)
        patch(item)
        cases.append(Case(name, fmt, with_bad(k, row.copy(extra={"raw": item}))))

    def setter(*keys, value):
        def patch(item):
            target = item
            for key in keys[:-1]:
                target = target[key]
            target[keys[-1]] = value

        return patch

    cse_patch(
        "nan_amount_beside_structure", 16, setter("composition", "Li", value=NAN), "finite", "nan-beside"
    )
    cse_patch(
        "composition_disagrees_with_structure",
        17,
        setter("composition", value={"Na": 1.0, "Cl": 1.0}),
        "composition",
    )
    cse_patch("correction_nan", 18, setter("correction", value=NAN), "correction")
    cse_patch("correction_string", 19, setter("correction", value="-1"), "correction")
    cse_patch("energy_missing", 20, lambda item: item.pop("energy"), "energy is None")
    cse_patch("energy_bool", 21, setter("energy", value=True), "energy is True")
    cse_patch("energy_list", 22, setter("energy", value=[-10.0]), "energy")
    cse_patch("energy_null", 23, setter("energy", value=None), "energy is None")
    cse_patch("no_entry_id", 24, lambda item: item.pop("entry_id"), "no entry_id")
    cse_patch("entry_id_object", 25, setter("entry_id", value={"id": 1}), "must be text")
    cse_patch("entry_id_nul", 26, setter("entry_id", value="mp-1\x00"), "NUL")
    cse_patch("method_too_long", 27, setter("parameters", "run_type", value="X" * 80), "at most 64")
    cse_patch("method_nul", 28, setter("parameters", "run_type", value="GGA\x00"), "NUL")
    cse_patch("data_nul", 29, setter("parameters", "potcar_symbols", value=["PAW_PBE Li\x00"]), "NUL byte")
    cse_patch("data_nan", 30, setter("parameters", "hubbards", value={"Li": NAN}), "finite numbers")
    cse_patch("data_nested_deep", 31, setter("parameters", "hubbards", value=nested(60)), "nested more than")
    cse_patch(
        "occupancy_nan", 32, setter("structure", "sites", 0, "species", 0, "occu", value=NAN), "occupancy"
    )
    cse_patch(
        "occupancy_half", 33, setter("structure", "sites", 0, "species", 0, "occu", value=0.5), "disordered"
    )
    cse_patch(
        "occupancy_two", 34, setter("structure", "sites", 0, "species", 0, "occu", value=2), "occupancy"
    )
    cse_patch("sites_not_a_list", 35, setter("structure", "sites", value={"a": 1}), "no list of sites")
    cse_patch("sites_empty", 36, setter("structure", "sites", value=[]), "no sites")
    cse_patch(
        "lattice_two_rows",
        37,
        setter("structure", "lattice", "matrix", value=[[1, 0, 0], [0, 1, 0]]),
        "3 x 3",
    )
    cse_patch(
        "lattice_string", 38, setter("structure", "lattice", "matrix", 0, 0, value="4.0"), "finite number"
    )
    cse_patch(
        "coordinates_two_numbers",
        39,
        setter("structure", "sites", 0, "abc", value=[0.0, 0.5]),
        "three numbers",
    )
    cse_patch("site_species_missing", 40, setter("structure", "sites", 0, "species", value=None), "species")
    cse_patch(
        "energy_adjustment_nan",
        41,
        setter(
            "energy_adjustments",
            value=[
                {
                    "@module": "pymatgen.entries.computed_entries",
                    "@class": "ConstantEnergyAdjustment",
                    "value": NAN,
                    "name": "poison",
                    "cls": None,
                    "description": "",
                    "uncertainty": 0,
                }
            ],
        ),
        "finite",
    )
    cse_patch(
        "site_property_nan",
        42,
        setter("structure", "sites", 0, "properties", value={"magmom": NAN}),
        "finite numbers",
    )
    cse_patch("site_label_nul", 43, setter("structure", "sites", 0, "label", value="Li\x00"), "NUL")

    cases.append(
        Case(
            "not_a_json_object",
            fmt,
            with_bad(44, POOL[0].copy(id=None, bad="not a JSON object", extra={"raw": [1, 2]})),
        )
    )

    for name, text, fragment in (
        ("nested_100000", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("invalid_json", '[{"entry_id": "x", "energy": }]', "not valid JSON"),
        ("top_level_number", "42", "expected a list"),
        ("huge_integer", "[" + "9" * 5000 + "]", "not valid JSON"),
        ("not_utf8", None, "unreadable"),
        ("truncated_gzip", None, "unreadable or truncated"),
    ):
        cases.append(Case(name, fmt, [], file_error=fragment, write=_text_writer(text, name)))
    return cases


def nested(depth: int) -> object:
    value: object = 1.0
    for _ in range(depth):
        value = {"a": value}
    return value


def _text_writer(text: str | None, name: str) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        if name == "not_utf8":
            path.write_bytes(b'[{"entry_id": "\xff\xfe"}]')
        elif name == "truncated_gzip":
            data = gzip.compress(json.dumps([cse_dict(r) for r in good(0)]).encode(), mtime=0)
            path.write_bytes(data[: len(data) // 2])
        else:
            path.write_text(text)

    return write


def wbm_cases() -> list[Case]:
    fmt = "wbm-json"
    cases = shared_cases(fmt, 100)

    def patched(name, k, patch, fragment):
        row = POOL[k % len(POOL)].copy(id=f"wbm-bad-{k}", bad=fragment)
        item = wbm_dict(row)
        patch(item)
        cases.append(Case(name, fmt, with_bad(k, row.copy(extra={"raw": item}))))

    patched("formula_disagrees", 1, lambda i: i.update(formula="NaCl"), "says NaCl")
    patched("formula_unreadable", 2, lambda i: i.update(formula="Q!!"), "cannot be read")
    patched("formula_not_text", 3, lambda i: i.update(formula=12), "must be text")
    patched("corrected_energy_missing", 4, lambda i: i.pop("corrected_energy"), "missing corrected_energy")
    patched("corrected_energy_string", 5, lambda i: i.update(corrected_energy="-10"), "corrected_energy")
    patched("raw_energy_nan", 6, lambda i: i.update(energy=NAN), "energy is nan")
    patched("material_id_missing", 7, lambda i: i.pop("material_id"), "no material_id")
    patched("material_id_list", 8, lambda i: i.update(material_id=["a"]), "must be text")
    patched("structure_not_object", 9, lambda i: i.update(structure="POSCAR"), "must be a JSON object")
    patched(
        "occupancy_nan", 10, lambda i: i["structure"]["sites"][0]["species"][0].update(occu=NAN), "occupancy"
    )
    patched(
        "site_property_nul", 11, lambda i: i["structure"]["sites"][0]["properties"].update(tag="a\x00"), "NUL"
    )
    cases.append(
        Case(
            "not_a_json_object",
            fmt,
            with_bad(12, POOL[0].copy(id=None, bad="not a JSON object", extra={"raw": "mp-1"})),
        )
    )
    for name, text, fragment in (
        ("nested_100000", '[{"material_id": ' + "[" * 100_000 + "]" * 100_000 + "}]", "nested too deeply"),
        ("invalid_json", "[{]", "not valid JSON"),
    ):
        cases.append(Case(name, fmt, [], file_error=fragment, write=_text_writer(text, name)))
    return cases


def gnome_cases() -> list[Case]:
    fmt = "gnome-csv"
    cases = shared_cases(fmt, 200)

    variant(cases, fmt, "corrected_energy_empty", 1, "is empty", energy=None)
    variant(cases, fmt, "binary_member", 2, "not UTF-8", member_bytes=bytes(range(256)) * 4)
    variant(cases, fmt, "member_missing", 3, "no structure", member=None)
    variant(cases, fmt, "member_not_a_cif", 4, "cannot read", member_bytes=b"hello, this is no CIF\n")
    variant(cases, fmt, "band_gap_negative", 5, "band gap", band_gap="-1.0")
    variant(cases, fmt, "band_gap_nan", 6, "finite", band_gap="nan")
    variant(cases, fmt, "band_gap_text", 7, "not a number", band_gap="wide")
    variant(cases, fmt, "reduced_formula_disagrees", 8, "says NaCl", formula="NaCl")
    variant(cases, fmt, "nsites_disagrees", 9, "sites but the structure has", nsites=99)
    variant(cases, fmt, "nsites_huge", 10, "at most 500", nsites=10**9)
    variant(cases, fmt, "nsites_fraction", 11, "whole number", nsites=1.5)
    variant(cases, fmt, "material_id_nul", 12, "NUL", id="gn-\x00-1")
    variant(cases, fmt, "member_cell_nan_text", 13, "finite", cell=["nan", "4.0", "4.0", "90", "90", "90"])
    variant(cases, fmt, "member_angle_zero", 14, "", cell=["4.0", "4.0", "4.0", "0", "0", "0"])
    variant(cases, fmt, "extra_column_nul", 16, "NUL byte", formation="-1.0\x00")
    variant(cases, fmt, "material_id_too_long", 17, "at most 128", id="gn-" + "7" * 140)
    variant(cases, fmt, "empty_material_id", 15, "empty MaterialId", id="")
    # a whole file that cannot be read
    cases.append(Case("bad_zip", fmt, [], file_error="unreadable or truncated zip", write=_gnome_bad_zip))
    cases.append(
        Case("missing_material_id_column", fmt, [], file_error="missing column", write=_gnome_no_id_column)
    )
    return cases


def _gnome_bad_zip(folder: Path) -> None:
    write_gnome(folder / "tmp", good(1))
    (folder / "stable_materials_summary.csv").write_text(
        (folder / "tmp" / "stable_materials_summary.csv").read_text()
    )
    (folder / "by_id.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    shutil.rmtree(folder / "tmp")


def _gnome_no_id_column(folder: Path) -> None:
    write_gnome(folder / "tmp", good(2))
    text = (
        (folder / "tmp" / "stable_materials_summary.csv").read_text().replace("MaterialId", "Identifier", 1)
    )
    (folder / "stable_materials_summary.csv").write_text(text)
    shutil.move(folder / "tmp" / "by_id.zip", folder / "by_id.zip")
    shutil.rmtree(folder / "tmp")


def structure_file_cases(fmt: str, start: int) -> list[Case]:
    cases = shared_cases(fmt, start)

    variant(cases, fmt, "path_parent", 1, "leads out of", file="../outside.txt")
    variant(cases, fmt, "path_parent_nested", 2, "leads out of", file="sub/../../outside.txt")
    variant(cases, fmt, "path_absolute", 3, "absolute path", file="/etc/passwd", no_file=True)
    variant(
        cases, fmt, "path_absolute_windows", 4, "absolute path", file="C:\\Windows\\win.ini", no_file=True
    )
    variant(
        cases,
        fmt,
        "path_symlink_out",
        5,
        "leads out of",
        file="link_out",
        symlink="../../outside.txt",
        no_file=True,
    )
    variant(cases, fmt, "path_missing", 6, "no such file", file="nothing_here", no_file=True)
    variant(cases, fmt, "path_empty", 7, "empty file name", file=" ", no_file=True)
    variant(cases, fmt, "path_nul", 8, "NUL", file="a\x00b", no_file=True)
    variant(cases, fmt, "file_binary", 9, "cannot read", file_bytes=bytes(range(256)))
    variant(cases, fmt, "file_garbage", 10, "cannot read", file_bytes=b"nothing to see here\n")
    variant(cases, fmt, "file_empty", 11, "cannot read", file_bytes=b"")
    variant(cases, fmt, "source_id_nul", 17, "NUL", id="s-\x00-1")
    variant(cases, fmt, "energy_empty", 12, "no energy given", energy=None)
    if fmt == "cif":
        variant(cases, fmt, "cell_nan_text", 13, "finite", cell=["nan", "4.0", "4.0", "90", "90", "90"])
        variant(cases, fmt, "occupancy_half", 14, "disordered", occupancy=0.5)
        # 1,728 atom-site rows: refused before pymatgen builds the structure (quadratic: 4 s here, minutes for more)
        cases.append(
            Case(
                "too_many_sites_1728", fmt, with_bad(18, many_sites(12).copy(bad="the CIF lists 1728 sites"))
            )
        )
        variant(cases, fmt, "cell_angle_zero", 15, "", cell=["4.0", "4.0", "4.0", "0", "0", "0"])
    else:
        cases.append(
            Case(
                "too_many_sites_1728",
                fmt,
                with_bad(18, many_sites(12).copy(bad="the POSCAR lists 1728 sites")),
            )
        )
        variant(
            cases,
            fmt,
            "species_count_mismatch",
            13,
            "cannot read",
            poscar="x\n1.0\n4 0 0\n0 4 0\n0 0 4\nLi\n3\ndirect\n0 0 0\n",
        )
        variant(
            cases,
            fmt,
            "scale_nan",
            14,
            "finite",
            poscar="x\n nan\n4 0 0\n0 4 0\n0 0 4\nLi\n1\ndirect\n0 0 0\n",
        )
        variant(
            cases,
            fmt,
            "scale_negative_volume",
            15,
            "",
            poscar="x\n-0.0\n4 0 0\n0 4 0\n0 0 4\nLi\n1\ndirect\n0 0 0\n",
        )
    # a formula column that disagrees
    k = 16
    rows = good(k)
    for row in rows:
        row.extra["columns"] = [reduced(row.species)]
        row.extra["column_names"] = ["formula"]
    bad = POOL[k % len(POOL)].copy(
        id=f"{fmt}-formula", bad="says NaCl", extra={"columns": ["NaCl"], "column_names": ["formula"]}
    )
    rows.insert(1, bad)
    cases.append(Case("formula_disagrees", fmt, rows))
    cases.append(
        Case("no_energy_column", fmt, [], file_error="missing column 'energy'", write=_no_energy_column(fmt))
    )
    return cases


def _no_energy_column(fmt: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        row = good(3, 1)[0]
        name = "s0.cif" if fmt == "cif" else "POSCAR_s0"
        (folder / name).write_text(cif_text(row) if fmt == "cif" else poscar_text(row))
        (folder / "energies.csv").write_text(f"file,source_id\n{name},{row.id}\n")

    return write


def extxyz_cases() -> list[Case]:
    fmt = "extxyz"
    cases = shared_cases(fmt, 500)

    variant(cases, fmt, "no_energy", 1, "no energy", energy=None)
    variant(cases, fmt, "not_periodic", 2, "not a periodic crystal", pbc='pbc="F F F"')
    variant(cases, fmt, "method_too_long", 3, "at most 64", info=["method=" + "M" * 70])
    variant(cases, fmt, "uncorrected_energy_text", 4, "uncorrected_energy", info=["uncorrected_energy=abc"])
    variant(cases, fmt, "energy_bool", 5, "finite", energy="T")
    variant(cases, fmt, "id_too_long_key", 6, "at most 128", id="x" * 300)
    frame = '1\nLattice="4 0 0 0 4" energy=-1 pbc="T T T"\nLi 0 0 0\n'
    variant(cases, fmt, "lattice_five_numbers", 7, "cannot read frame", frame=frame)
    frame = (
        '1\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 energy=-1 pbc="T T T"\nLi 0 zero 0\n'
    )
    variant(cases, fmt, "position_text", 8, "cannot read frame", frame=frame)
    frame = '0\nLattice="4 0 0 0 4 0 0 0 4" energy=-1 pbc="T T T"\n'
    variant(cases, fmt, "no_atoms", 9, "no sites", frame=frame)
    frame = '100000000\nLattice="4 0 0 0 4 0 0 0 4" energy=-1 pbc="T T T"\nLi 0 0 0\n'
    cases.append(Case("count_huge_at_the_end", fmt, [*good(10), POOL[0].copy(id="huge", bad=None)]))
    cases[-1].rows[-1].extra["frame"] = frame
    cases[-1].file_error = "unreadable extended XYZ"
    for name, text, fragment in (
        ("not_xyz", "this is not xyz\n", "unreadable extended XYZ"),
        (
            "atom_count_too_large",
            '5\nLattice="4 0 0 0 4 0 0 0 4" energy=-1\nLi 0 0 0\n',
            "unreadable extended XYZ",
        ),
        ("count_not_a_number", "two\ncomment\nLi 0 0 0\nLi 1 1 1\n", "unreadable extended XYZ"),
    ):
        cases.append(Case(name, fmt, [], file_error=fragment, write=lambda p, t=text: p.write_text(t)))
    return cases


def all_cases() -> list[Case]:
    return [
        *cse_cases(),
        *wbm_cases(),
        *gnome_cases(),
        *structure_file_cases("cif", 300),
        *structure_file_cases("poscar", 400),
        *extxyz_cases(),
    ]
