"""Symmetric random structures of the composition pipeline: pyxtal crystals in space groups that fit the
composition, scaled to 0.4-1.2 of the summed atomic volumes, kept symmetric by the soft-sphere
relaxation, as many per composition as asked (the paper's 100 by default), spread by the budget."""

import inspect
import math

import numpy as np
import pytest
from pymatgen.core import Element, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer
from pymatgen.symmetry.groups import PointGroup, SpaceGroup

from discovery.generation.airss import (
    PER_COMPOSITION,
    airss_candidates,
    airss_proposals,
    closest_approach,
    min_distance,
    random_space_group,
    relax_soft_spheres,
)


def _drawn_group(operation: str) -> int:
    return int(operation.split("(")[1].split(")")[0])


def _point_group_order(number: int) -> int:
    """The order of a space group's point group, from pymatgen's tables."""
    return len(PointGroup(SpaceGroup.from_int_number(number).point_group).symmetry_ops)


def test_random_structures_are_symmetric_and_within_the_volume_range():
    out = list(airss_candidates(["Li2O", "LiMnO2"], budget=6, per_composition=3, seed=11))
    assert len(out) == 6
    detected = []
    for candidate in out:
        structure = candidate.structure
        drawn = _drawn_group(candidate.operation)
        assert drawn > 1
        analyzer = SpacegroupAnalyzer(structure, symprec=0.1)
        detected.append(analyzer.get_space_group_number())
        # the relaxation keeps the drawn symmetry (spglib may find more, never less)
        assert len(analyzer.get_point_group_operations()) >= _point_group_order(drawn)
        v0 = sum(4 / 3 * math.pi * Element(site.specie.symbol).atomic_radius ** 3 for site in structure)
        assert 0.4 - 1e-9 <= structure.volume / v0 <= 1.2 + 1e-9
    assert all(number > 1 for number in detected)


def test_space_groups_fit_the_composition():
    """Groups are drawn at random among those that can hold the atom counts."""
    rng = np.random.default_rng(3)
    for counts in ([2, 1], [1, 1, 2], [15, 4]):
        numbers = {random_space_group(counts, rng) for _ in range(5)}
        assert all(2 <= n <= 230 for n in numbers)
        assert len(numbers) > 1  # drawn at random, not always the same group


def test_soft_sphere_relaxation_keeps_a_hexagonal_cell_symmetric():
    """Fractional steps in a non-orthogonal cell break symmetry; the relaxation's Cartesian steps do not."""
    lattice = Lattice.hexagonal(2.2, 3.0)
    structure = Structure(lattice, ["Li", "Li", "O"], [[1 / 3, 2 / 3, 0.1], [2 / 3, 1 / 3, 0.6], [0, 0, 0.3]])
    before = SpacegroupAnalyzer(structure, symprec=0.01).get_space_group_number()
    symbols = [site.specie.symbol for site in structure]
    contact = np.array([[min_distance(a, b) for b in symbols] for a in symbols])
    relaxed = relax_soft_spheres(structure, contact)
    assert before > 1
    after = SpacegroupAnalyzer(relaxed, symprec=0.01).get_point_group_operations()
    assert len(after) >= _point_group_order(before)
    assert relaxed.volume >= structure.volume - 1e-9
    assert closest_approach(relaxed) >= 1.0 > closest_approach(structure)


def test_per_composition_defaults_to_the_papers_100_and_the_budget_spreads_over_compositions():
    assert PER_COMPOSITION == 100
    assert inspect.signature(airss_proposals).parameters["per_composition"].default == PER_COMPOSITION
    out = list(airss_candidates(["Li2O", "LiF"], budget=4, seed=5))
    assert [c.composition for c in out] == ["Li2O", "LiF", "Li2O", "LiF"]


def test_a_round_sets_the_number_per_composition():
    from discovery.config import RoundConfig
    from hull.errors import CatalogueError

    assert RoundConfig.from_data({"elements": ["Li", "Si"]}).random_structures == PER_COMPOSITION
    assert RoundConfig.from_data({"elements": ["Li", "Si"], "random_structures": 3}).random_structures == 3
    with pytest.raises(CatalogueError):
        RoundConfig.from_data({"elements": ["Li", "Si"], "random_structures": 0})


def test_deterministic_for_a_seed():
    def run(seed):
        return [(c.operation, c.structure) for c in airss_candidates(["LiF"], budget=2, seed=seed)]

    first, second = run(4), run(4)
    assert [op for op, _ in first] == [op for op, _ in second]
    for (_, a), (_, b) in zip(first, second, strict=True):
        assert np.allclose(a.lattice.matrix, b.lattice.matrix) and np.allclose(a.frac_coords, b.frac_coords)
