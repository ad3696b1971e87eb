"""Bonds and polyhedra of real Materials Project structures against pymatgen's CrystalNN, and the public pages
of source ids."""

import random
import warnings

import numpy as np
import pytest
from pymatgen.analysis.local_env import CrystalNN
from pymatgen.core import Structure
from scipy.spatial import cKDTree

from hull.source_links import source_page
from hull.structure_bonds import bonded_neighbours, polyhedron_at


def _structure(mp_entry_dicts, entry_id: str) -> Structure:
    return Structure.from_dict(next(d for d in mp_entry_dicts if d["entry_id"] == entry_id)["structure"])


def _crystal_nn(structure: Structure) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no oxidation states: CrystalNN warns and uses covalent radii
        finder = CrystalNN()
        return [len(finder.get_nn_info(structure, i)) for i in range(len(structure))]


def test_olivine_lifepo4_polyhedra_match_crystal_nn(mp_entry_dicts):
    """LiFePO4 (mp-19017): FeO6 octahedra and PO4 tetrahedra around every Fe and P, as CrystalNN counts them;
    P is a cation here and is not bonded to Fe or Li."""
    structure = _structure(mp_entry_dicts, "mp-19017")
    neighbours = bonded_neighbours(structure)
    reference = _crystal_nn(structure)
    for index, site in enumerate(structure):
        symbol = site.specie.symbol
        around = neighbours[index]
        if symbol in ("Fe", "P"):
            assert len(around) == reference[index] == {"Fe": 6, "P": 4}[symbol]
            assert {n.symbol for n in around} == {"O"}
            polyhedron = polyhedron_at(symbol, site.coords, around)
            assert polyhedron is not None and len(polyhedron.vertices) == len(around)
            # a closed convex surface: every edge is shared by two triangles (Euler: F = 2V - 4)
            assert len(polyhedron.faces) == 2 * len(around) - 4
        if symbol == "O":
            assert polyhedron_at(symbol, site.coords, around) is None


def test_coordination_agrees_with_crystal_nn_on_most_sites(mp_entry_dicts):
    random.seed(7)
    small = [d for d in mp_entry_dicts if len(d["structure"]["sites"]) <= 20]
    agree = total = 0
    for item in random.sample(small, 25):
        structure = Structure.from_dict(item["structure"])
        ours = [len(around) for around in bonded_neighbours(structure)]
        reference = _crystal_nn(structure)
        agree += sum(a == b for a, b in zip(ours, reference, strict=True))
        total += len(structure)
    assert agree / total > 0.85, f"{agree} of {total} sites"


def test_metals_bond_their_nearest_shell(mp_entry_dicts):
    """A metal bonds to itself (no anion to prefer), its nearest shell only: 8 in bcc Fe, not 14."""
    metals = [
        Structure.from_dict(d["structure"])
        for d in mp_entry_dicts
        if len(d["composition"]) == 1 and len(d["structure"]["sites"]) <= 2
    ]
    bcc = [s for s in metals if s.composition.reduced_formula == "Fe" and s.get_space_group_info()[1] == 229]
    assert bcc
    for structure in bcc:
        assert [len(around) for around in bonded_neighbours(structure)] == [8] * len(structure)
    assert sum(
        [len(a) for a in bonded_neighbours(s)] == _crystal_nn(s) for s in metals if s[0].specie.is_metal
    ) >= 0.9 * sum(1 for s in metals if s[0].specie.is_metal)


def test_every_bond_is_seen_from_both_ends(mp_entry_dicts):
    structure = _structure(mp_entry_dicts, "mp-19017")
    vectors = np.array([n.vector for around in bonded_neighbours(structure) for n in around])
    distances, _ = cKDTree(-vectors).query(vectors)
    assert len(vectors) > len(structure) and distances.max() < 1e-3


@pytest.mark.parametrize(
    ("source", "source_id", "expected"),
    [
        ("mp", "mp-1960", ("Materials Project", "https://next-gen.materialsproject.org/materials/mp-1960")),
        (
            "mp",
            "mvc-12905",
            ("Materials Project", "https://next-gen.materialsproject.org/materials/mvc-12905"),
        ),
        (
            "gnome-mp",
            "mp-19017",
            ("Materials Project", "https://next-gen.materialsproject.org/materials/mp-19017"),
        ),
        ("oqmd", "4061139", ("OQMD", "https://oqmd.org/materials/entry/4061139")),
        ("wbm", "wbm-1-2", None),
        ("gnome", "0a1b2c3d4e", None),
        ("user", "1234", None),
        ("mp", "mp-1960/../x", None),
    ],
)
def test_source_pages(source, source_id, expected):
    assert source_page(source=source, source_id=source_id) == expected
