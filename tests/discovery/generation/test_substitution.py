"""Ionic substitution with the GNoME-modified probability model, on real MP parents."""

import itertools
import re

import orjson
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Species, Structure

from discovery.generation.substitution import (
    LAMBDA_TABLE,
    THRESHOLD,
    SubstitutionModel,
    decorate,
    discovery_lambda_table,
    discovery_probability_model,
    substitution_candidates,
)

OPERATION = re.compile(r"^(?P<pairs>.+) \(p=(?P<p>[0-9.e-]+)\)$")


def _mapping(operation: str) -> tuple[dict[str, str], float]:
    match = OPERATION.match(operation)
    assert match, operation
    mapping = {}
    for pair in match["pairs"].split(", "):
        old, new = pair.split("->")
        mapping[Species.from_str(old).symbol] = Species.from_str(new).symbol
    return mapping, float(match["p"])


def test_negative_lambdas_are_raised_to_zero():
    original = [row for row in orjson.loads(LAMBDA_TABLE.read_bytes()) if "D1+" not in row]
    edited = discovery_lambda_table()
    assert len(edited) == len(original)
    assert any(row[2] < 0 for row in original)
    assert all(row[2] >= 0 for row in edited)
    for before, after in zip(original, edited, strict=True):
        assert after[2] == max(before[2], 0.0)
    model = discovery_probability_model()
    negative = next(row for row in original if row[2] < 0)
    assert model.get_lambda(negative[0], negative[1]) == 0.0


def test_replacements_exclude_the_same_element_and_respect_the_threshold():
    model = SubstitutionModel()
    li = Species("Li", 1)
    out = model.replacements(li)
    assert out and out[0].new == Species("Na", 1)  # the most likely replacement of Li+
    assert all(r.new.symbol != "Li" and r.probability >= THRESHOLD for r in out)
    assert [r.probability for r in out] == sorted((r.probability for r in out), reverse=True)
    assert sum(r.probability for r in model.replacements(li, threshold=0.0)) <= 1.0 + 1e-9


def test_candidates_change_composition_only_as_the_operation_says(parents, known_formulas):
    by_id = dict(parents.values())
    out = list(substitution_candidates(list(parents.values()), budget=60, known_formulas=known_formulas))
    assert len(out) == 60
    for candidate in out:
        mapping, probability = _mapping(candidate.operation)
        assert probability >= THRESHOLD
        parent = by_id[candidate.parent_id]
        expected = Composition({mapping.get(el.symbol, el.symbol): n for el, n in parent.composition.items()})
        assert candidate.structure.composition == expected
        assert len(candidate.structure) == len(parent)
        assert candidate.composition not in known_formulas
        assert candidate.generator == "substitution"


def test_no_duplicates_budget_and_stable_ids(parents, known_formulas):
    run = lambda: list(substitution_candidates([parents["LiCoO2"]], budget=25, known_formulas=known_formulas))  # noqa: E731
    first, second = run(), run()
    assert len(first) == 25
    assert [c.candidate_id for c in first] == [c.candidate_id for c in second]
    assert len({c.candidate_id for c in first}) == 25
    matcher = StructureMatcher()
    for a, b in itertools.combinations(first, 2):
        assert not matcher.fit(a.structure, b.structure)


def test_charge_balance_when_requested(parents):
    out = list(substitution_candidates([parents["LiMnO2"]], budget=30, charge_balance=True))
    assert out
    assert all(c.structure.composition.oxi_state_guesses(max_sites=-20) for c in out)


def test_allowed_elements_restrict_the_new_elements(parents):
    allowed = {"Na", "K", "Cl", "Li", "O"}
    out = list(substitution_candidates([parents["Li2O"]], budget=50, allowed_elements=sorted(allowed)))
    assert "Na2O" in {c.composition for c in out}
    assert all({el.symbol for el in c.structure.composition} <= allowed for c in out)


def test_parents_whose_reduced_formula_has_over_20_atoms_are_decorated_by_bond_valence():
    # pymatgen's oxidation-state guesser refuses reduced formulas over 20 atoms (a round-2 parent,
    # Na8MnNi3O10, stopped a round this way); the bond-valence analyser takes over
    li2o = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(4.61), ["Li", "O"], [[0.25, 0.25, 0.25], [0, 0, 0]]
    )
    big = li2o * (2, 1, 1)
    big.replace(0, "Na")
    assert big.composition.reduced_composition.num_atoms > 20
    decorated = decorate(big)
    assert decorated is not None
    assert sum(site.specie.oxi_state for site in decorated) == 0
    assert {site.specie.symbol: site.specie.oxi_state for site in decorated} == {"Li": 1, "Na": 1, "O": -2}
