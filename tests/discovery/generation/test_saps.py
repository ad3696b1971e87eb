"""SAPS on real parents: counts of symmetrically distinct choices checked by hand, compositions, charge."""

import itertools
import re

import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from discovery.generation.saps import count_distinct_choices, orbits_of, saps_candidates, site_permutations


@pytest.fixture(scope="module")
def li2o_conventional(parents):
    """Conventional antifluorite cell: 8 Li on 8c forming a 2x2x2 simple-cubic array, 4 O on 4a."""
    return SpacegroupAnalyzer(parents["Li2O"][1]).get_conventional_standard_structure()


def test_li2o_counts_by_hand(li2o_conventional):
    """The 8 Li of the conventional cell sit at the points of (Z_2)^3 (a cube of edge a/2, periodic with a).
    Choosing 1 Li: 1 way up to symmetry. Choosing 2: the pair differs along 1, 2 or 3 axes (edge, face
    diagonal, body diagonal of the small cube): 3 ways. 6 = complement of 2: 3 ways; 7: 1; 8: 1."""
    ((symbol, li_sites),) = orbits_of(li2o_conventional, "Li")
    assert symbol == "8c" and len(li_sites) == 8
    assert len(site_permutations(li2o_conventional)) == 192  # 48 point operations x 4 centring translations
    counts = {k: count_distinct_choices(li2o_conventional, li_sites, k) for k in range(1, 9)}
    assert counts[1] == 1 and counts[2] == 3 and counts[6] == 3 and counts[7] == 1 and counts[8] == 1
    assert counts[3] == counts[5]  # complements


def test_li2o_candidates_one_per_distinct_choice(li2o_conventional):
    out = list(saps_candidates([("mp-1960", li2o_conventional)], budget=1000, pairs=[("Li", "Na")]))
    ((_, li_sites),) = orbits_of(li2o_conventional, "Li")
    expected = sum(count_distinct_choices(li2o_conventional, li_sites, k) for k in range(1, 9))
    assert len(out) == expected == 21
    matcher = StructureMatcher()
    for a, b in itertools.combinations(out, 2):
        assert not matcher.fit(a.structure, b.structure)
    for candidate in out:
        k = int(re.match(r"SAPS Li\(8c\)->Na x(\d) of 8$", candidate.operation).group(1))
        composition = candidate.structure.composition
        assert composition["Na"] == k and composition["Li"] == 8 - k and composition["O"] == 4
        assert candidate.parent_id == "mp-1960"


def test_default_pairs_and_budget(parents):
    out = list(saps_candidates([parents["LiMnO2"], parents["LiCoO2"]], budget=15))
    assert len(out) == 15
    assert len({c.candidate_id for c in out}) == 15
    again = [c.candidate_id for c in saps_candidates([parents["LiMnO2"], parents["LiCoO2"]], budget=15)]
    assert again == [c.candidate_id for c in out]


def test_charge_balance_is_optional(li2o_conventional, parents):
    unbalanced = list(saps_candidates([("mp-1960", li2o_conventional)], budget=50, pairs=[("Li", "Mg")]))
    assert unbalanced  # default off, as in the paper
    balanced = list(
        saps_candidates(
            [("mp-1960", li2o_conventional)], budget=50, pairs=[("Li", "Mg")], charge_balance=True
        )
    )
    assert balanced == []  # Mg2+ for Li+ leaves a charge on every partial substitution
    kept = list(saps_candidates([parents["LiMnO2"]], budget=50, pairs=[("O", "F")], charge_balance=True))
    assert kept
    assert all(c.structure.composition.oxi_state_guesses(max_sites=-20) for c in kept)
