"""Names of well-known structure types (hull/prototype_names.py): every type in the table is recognised in the
structure built from its description; real Materials Project structures of the shared data known to be of a type
are named so (and match the type under pymatgen's StructureMatcher with its default tolerances), structures that
only look alike are not, and over the whole demo set a structure the default matcher finds to be a type is named
that type."""

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.symmetry.groups import SpaceGroup

from hull.formulas import anonymous_formula
from hull.prototype_names import (
    FIXED_BY_SYMMETRY,
    STRUCTURE_TYPES,
    candidates,
    prototype_name,
    reference_structure,
    structure_type_of,
    wyckoff_letters,
)

# Real structures of the shared Materials Project entries, one per type where the data hold one.
DEMO = {
    "fcc (copper, A1)": "mp-23-GGA",
    "bcc (tungsten, A2)": "mp-13",
    "hcp (magnesium, A3)": "mp-54-GGA",
    "diamond (A4)": "mp-66",
    "graphite (A9)": "mp-48",
    "rocksalt (NaCl, B1)": "mp-22862",
    "CsCl (B2)": "mp-23289",
    "zincblende (ZnS, B3)": "mp-1238899",
    "wurtzite (ZnO, B4)": "mp-1185319",
    "NiAs (B8₁)": "mp-755189",
    "fluorite / antifluorite (CaF2, C1)": "mp-1960",
    "rutile (TiO2, C4)": "mp-510408",
    "pyrite (FeS2, C2)": "mp-614",
    "CdI2 (C6)": "mp-25223",
    "CdCl2 (C19)": "mp-25210-GGA+U",
    "corundum (Al2O3, D5₁)": "mp-19770",
    "Cu3Au (L1₂)": "mp-1008349-GGA",
    "BiF3 / Li3Bi (D0₃)": "mp-1184876",
    "perovskite / antiperovskite (CaTiO3, E2₁)": "mp-985585",
    "layered α-NaFeO2 (LiCoO2)": "mp-22526-GGA+U",
    "spinel (MgAl2O4, H1₁)": "mp-22584",
    "olivine (LiFePO4, triphylite)": "mp-19017",
}
# Not these types, though their formula and space group are (and some their Wyckoff letters too).
NOT_NAMED = {
    "mp-20066": "dry-ice CO2: pyrite's Wyckoff letters, O pairs centred on C instead of between the metal sites",
    "mp-841": "Li2O2 (P6_3/mmc): a third orbit, not NiAs",
    "mp-976411": "double-hexagonal close-packed Li (2a 2c), not hcp",
}
# pymatgen's StructureMatcher with its default tolerances: the reference a name is checked against
STRICT = StructureMatcher(primitive_cell=True, scale=True, attempt_supercell=True)


def fixed_point(symbol: str, position) -> bool:
    """Whether ``position`` has no free coordinate in the space group: the operations that leave it in place
    (modulo lattice translations) fix no line or plane through it."""
    point = np.array(position, dtype=float)
    rows = []
    for op in SpaceGroup(symbol).symmetry_ops:
        moved = op.operate(point) - point
        if np.allclose(moved - np.round(moved), 0, atol=1e-6):
            rows.append(op.rotation_matrix - np.eye(3))
    return np.linalg.matrix_rank(np.vstack(rows), tol=1e-6) == 3


def test_every_type_is_named_from_its_own_description():
    names = [kind.name for kind in STRUCTURE_TYPES]
    assert len(set(names)) == len(names)
    assert set(names) >= FIXED_BY_SYMMETRY
    for kind in STRUCTURE_TYPES:
        structure = kind.structure()
        number, letters = wyckoff_letters(structure)
        assert number == kind.spacegroup_number
        assert anonymous_formula(structure.composition) == kind.anonymous_formula
        assert letters in kind.wyckoff, (kind.name, letters)
        assert structure_type_of(structure) is kind
        assert (kind.name in FIXED_BY_SYMMETRY) == all(
            fixed_point(kind.spacegroup, p) for p in kind.positions
        )
        # no two types of one formula, space group and Wyckoff sequence match each other
        for other in candidates(kind.anonymous_formula, kind.spacegroup_number):
            if other is not kind and set(other.wyckoff) & set(kind.wyckoff):
                assert not STRICT.fit_anonymous(structure, reference_structure(other)), (
                    kind.name,
                    other.name,
                )


@pytest.fixture(scope="module")
def demo_structures(mp_entry_dicts) -> dict[str, Structure]:
    return {
        item["entry_id"]: Structure.from_dict(item["structure"])
        for item in mp_entry_dicts
        if len(item["structure"]["sites"]) <= 30
    }


@pytest.mark.parametrize(("name", "mp_id"), DEMO.items())
def test_demo_structure_is_named(name, mp_id, demo_structures):
    structure = demo_structures[mp_id]
    kind = structure_type_of(structure)
    assert kind is not None and kind.name == name
    assert STRICT.fit_anonymous(structure, reference_structure(kind))


@pytest.mark.parametrize("mp_id", NOT_NAMED)
def test_demo_structure_of_no_type(mp_id, demo_structures):
    structure = demo_structures[mp_id]
    assert candidates(anonymous_formula(structure.composition), wyckoff_letters(structure)[0])
    assert structure_type_of(structure) is None, NOT_NAMED[mp_id]


def test_names_agree_with_structure_matcher_on_the_demo_data(demo_structures):
    """Every demo structure whose formula and space group a type has: where pymatgen's matcher with its default
    tolerances finds it to be the type, it is named so."""
    checked = named = 0
    for mp_id, structure in demo_structures.items():
        if len(structure) > 16:  # the small cells: time
            continue
        try:
            number, _ = wyckoff_letters(structure)
        except Exception:  # spglib gives up on a few distorted cells: no name is claimed for them either
            continue
        kinds = candidates(anonymous_formula(structure.composition), number)
        if not kinds:
            continue
        kind = structure_type_of(structure)
        for candidate in kinds:
            if STRICT.fit_anonymous(structure, reference_structure(candidate)):
                assert kind is candidate, (mp_id, candidate.name)
        checked += 1
        named += kind is not None
    assert checked > 100 and named > 80


def test_prototype_name_of_a_stored_structure(demo_structures):
    structure = demo_structures["mp-1960"]
    assert (
        prototype_name(structure.as_dict(), anonymous="A2B", spacegroup_number=225, symprec=0.1)
        == "fluorite / antifluorite (CaF2, C1)"
    )
    # no type of that formula and space group: no symmetry analysis, no name
    assert prototype_name(structure.as_dict(), anonymous="A2B", spacegroup_number=12, symprec=0.1) == ""
    assert prototype_name(None, anonymous="A2B", spacegroup_number=225, symprec=None) == ""
