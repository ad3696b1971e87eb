"""Our dimensionality (hull.dimensionality, hull.crystal_nn) gives pymatgen's labels and bonds: on real
structures (Materials Project entries across formulas and WBM structures across elements, fixed seeds) and on
textbook layered, chain, molecular and 3D crystals built here. pymatgen's functions are the reference, run in
the test; the known dimensionality of the textbook crystals is checked too."""

import random
import warnings

import pytest
from pymatgen.core import Lattice, Structure

from hull.crystal_nn import crystal_nn_bonds
from hull.dimensionality import (
    cheon_bonds,
    cheon_label,
    edge_set,
    jmol_radii,
    larsen_dimensionality,
    pymatgen_dimensionality,
    supercell_cluster_sizes,
)

MP_SAMPLE = 45  # one structure per reduced formula, at most 8 sites (pymatgen takes ~0.5 s on each)
WBM_SAMPLE = 15  # across elements, at most 6 sites


def ours(structure: Structure) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            cheon = cheon_label(structure)
        except Exception as exc:
            cheon = repr(exc)
        i, j, t = crystal_nn_bonds(structure)
        return {
            "cheon": cheon,
            "larsen": larsen_dimensionality(len(structure), i, j, t),
            "bonds": edge_set(i, j, t),
        }


def disagreements(named: list[tuple[str, Structure]]) -> list[str]:
    found = []
    for name, structure in named:
        mine, reference = ours(structure), pymatgen_dimensionality(structure)
        for key in ("cheon", "larsen", "bonds"):
            if mine[key] != reference[key]:
                found.append(f"{name} {key}: ours {mine[key]!r}, pymatgen {reference[key]!r}")
    return found


def one_per_formula(items: list[dict], structure_of, formula_of, max_sites: int, count: int, seed: int):
    by_formula: dict[str, list[dict]] = {}
    for item in items:
        if len(structure_of(item)["sites"]) <= max_sites:
            by_formula.setdefault(formula_of(item), []).append(item)
    rng = random.Random(seed)
    formulas = rng.sample(sorted(by_formula), count)
    return [
        (formula, Structure.from_dict(structure_of(rng.choice(by_formula[formula])))) for formula in formulas
    ]


def test_same_labels_and_bonds_as_pymatgen_on_materials_project_structures(mp_entry_dicts):
    sample = one_per_formula(
        mp_entry_dicts,
        lambda item: item["structure"],
        lambda item: Structure.from_dict(item["structure"]).composition.reduced_formula,
        max_sites=8,
        count=MP_SAMPLE,
        seed=25,
    )
    assert len(sample) == MP_SAMPLE
    assert disagreements(sample) == []


def test_same_labels_and_bonds_as_pymatgen_on_wbm_structures(wbm_dicts):
    sample = one_per_formula(
        wbm_dicts,
        lambda item: item["structure"],
        lambda item: item["formula"],
        max_sites=6,
        count=WBM_SAMPLE,
        seed=5,
    )
    assert len({el for _, s in sample for el in s.composition.elements}) > 15  # many radii, not 12 elements
    assert disagreements(sample) == []


def graphite() -> Structure:
    return Structure.from_spacegroup(
        "P6_3/mmc", Lattice.hexagonal(2.46, 6.71), ["C", "C"], [[0, 0, 0.25], [1 / 3, 2 / 3, 0.25]]
    )


def mos2() -> Structure:
    return Structure.from_spacegroup(
        "P6_3/mmc", Lattice.hexagonal(3.16, 12.3), ["Mo", "S"], [[1 / 3, 2 / 3, 0.25], [1 / 3, 2 / 3, 0.621]]
    )


def cdi2() -> Structure:
    return Structure.from_spacegroup(
        "P-3m1", Lattice.hexagonal(4.24, 6.84), ["Cd", "I"], [[0, 0, 0], [1 / 3, 2 / 3, 0.25]]
    )


def selenium_chains() -> Structure:
    return Structure.from_spacegroup("P3_121", Lattice.hexagonal(4.37, 4.95), ["Se"], [[0.2254, 0, 1 / 3]])


def silicon() -> Structure:
    return Structure.from_spacegroup("Fd-3m", Lattice.cubic(5.43), ["Si"], [[0, 0, 0]])


def rutile() -> Structure:
    return Structure.from_spacegroup(
        "P4_2/mnm", Lattice.tetragonal(4.59, 2.96), ["Ti", "O"], [[0, 0, 0], [0.305, 0.305, 0]]
    )


def nitrogen_molecules() -> Structure:
    return Structure(Lattice.cubic(6.0), ["N", "N"], [[0.5, 0.5, 0.4083], [0.5, 0.5, 0.5917]])


@pytest.mark.parametrize(
    ("build", "cheon", "larsen"),
    [
        (graphite, "2D", 2),
        (mos2, "2D", 2),
        (cdi2, "2D", 2),
        (selenium_chains, "1D", 1),
        (silicon, "3D", 3),
        (rutile, "3D", 3),
        (nitrogen_molecules, "0D", 0),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_textbook_crystals(build, cheon, larsen):
    structure = build()
    mine, reference = ours(structure), pymatgen_dimensionality(structure)
    assert (mine["cheon"], mine["larsen"]) == (cheon, larsen)
    assert mine == reference


def test_supercell_clusters_of_layers_and_of_a_lone_atom():
    """Graphite's conventional cell holds one layer's worth of 4 atoms per cell: 2 layers of 2, doubled in
    the plane 4 times; an atom with no bond makes pymatgen's ``find_clusters`` answer (0, 1)."""
    conventional = graphite()
    bonds = cheon_bonds(conventional, 0.45, jmol_radii())
    assert supercell_cluster_sizes(len(conventional), bonds, 1) == (2, 2)
    assert supercell_cluster_sizes(len(conventional), bonds, 2) == (8, 8)
    lone = Structure(Lattice.cubic(5.0), ["Na"], [[0, 0, 0]])
    assert supercell_cluster_sizes(1, cheon_bonds(lone, 0.45, jmol_radii()), 2) == (0, 1)
    assert cheon_label(lone) == "intercalated ion" == pymatgen_dimensionality(lone)["cheon"]


def test_larsen_rank_of_bond_graphs():
    """A site bonded to its own image along a is a chain; adding b makes a layer; a second site bonded to
    the first across c closes a 3D net; an isolated pair stays 0D."""
    assert larsen_dimensionality(1, [0], [0], [(1, 0, 0)]) == 1
    assert larsen_dimensionality(1, [0, 0], [0, 0], [(1, 0, 0), (0, 1, 0)]) == 2
    assert (
        larsen_dimensionality(2, [0, 0, 0, 1], [0, 0, 1, 0], [(1, 0, 0), (0, 1, 0), (0, 0, 0), (0, 0, 1)])
        == 3
    )
    assert larsen_dimensionality(3, [0], [1], [(0, 0, 0)]) == 0
