"""Composition enumeration with the relaxed oxidation-state rule."""

from hypothesis import given, settings
from hypothesis import strategies as st
from pymatgen.core import Composition

from discovery.generation.compositions import (
    allowed_states,
    enumerate_compositions,
    passes_relaxed_charge_rule,
)


def test_allowed_states_add_zero_for_metals_only():
    assert allowed_states("Fe") == (0, 2, 3)
    assert allowed_states("O") == (-2,)
    assert allowed_states("Li") == (0, 1)


def test_rule_on_known_compositions():
    assert passes_relaxed_charge_rule("Li2O", max_relaxed=0)
    assert passes_relaxed_charge_rule("LiCoO2", max_relaxed=0)
    assert not passes_relaxed_charge_rule("Fe3O4", max_relaxed=0)  # needs Fe(8/3)
    assert passes_relaxed_charge_rule("Fe3O4")  # one element between its states 2 and 3
    assert passes_relaxed_charge_rule("LiFe")  # intermetallic: both at 0
    assert not passes_relaxed_charge_rule("LiO5")
    assert not passes_relaxed_charge_rule("NaCl3")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=3, max_size=3), st.sampled_from(["Li", "Na", "Fe", "Mn"]))
def test_relaxing_more_elements_only_admits_more(counts, metal):
    composition = Composition({metal: counts[0], "P": counts[1], "O": counts[2]})
    results = [passes_relaxed_charge_rule(composition, max_relaxed=k) for k in range(3)]
    assert results == sorted(results)  # False ... True: monotone in the number of relaxed elements


def test_enumeration_invariants(known_formulas):
    elements = ["Li", "Mn", "O"]
    out = enumerate_compositions(elements, max_atoms=10, exclude_formulas=known_formulas)
    formulas = [c.reduced_formula for c in out]
    assert len(formulas) == len(set(formulas))
    assert not set(formulas) & known_formulas
    for composition in out:
        assert composition == composition.reduced_composition
        assert composition.num_atoms <= 10
        assert {el.symbol for el in composition} <= set(elements)
        assert len(composition) >= 2
        assert passes_relaxed_charge_rule(composition)
    assert "LiMn2O3" in formulas or "LiMn2O3" in known_formulas
    assert "LiO5" not in formulas
    assert enumerate_compositions(elements, max_atoms=10, exclude_formulas=known_formulas) == out
    assert (
        enumerate_compositions(elements, max_atoms=10, budget=7)
        == enumerate_compositions(elements, max_atoms=10)[:7]
    )
