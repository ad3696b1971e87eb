"""The relaxed oxidation-state rule of the composition pipeline, against SMACT's and pymatgen's tables.

The rule (``discovery.generation.compositions``): SMACT's common states, 0 for metals, the negative states
for metalloids, and up to two elements between their ordered states. The paper's own example Li15Si4
passes; compositions that no assignment of any known oxidation states balances stay rejected.
"""

import itertools

import pytest
import smact
from pymatgen.core import Composition, Element

from discovery.generation.compositions import (
    COMMON_OXIDATION_STATES,
    MAX_FORMULA_ATOMS,
    METALLOID_ANION_STATES,
    allowed_states,
    enumerate_compositions,
    passes_relaxed_charge_rule,
)


def _smact_common_table() -> dict[str, tuple[int, ...]]:
    """SMACT's ICSD-2024 states reported in at least 5 % of an element's compounds (3 reports minimum)."""
    from smact.utils.oxidation import ICSD24OxStatesFilter

    table = ICSD24OxStatesFilter().filter(consensus=3, commonality=5)
    return {
        element: tuple(sorted(int(x) for x in str(states).split()))
        for element, states in zip(table["element"], table["oxidation_state"], strict=True)
    }


def test_common_table_is_smacts():
    reference = _smact_common_table()
    for symbol, states in COMMON_OXIDATION_STATES.items():
        assert states == reference.get(symbol, ()), symbol


def test_metalloid_anion_states_are_smacts_negative_states():
    metalloids = {el.symbol for el in Element if el.is_metalloid}
    assert set(METALLOID_ANION_STATES) == metalloids
    for symbol in metalloids:
        negative = tuple(s for s in (smact.Element(symbol).oxidation_states_icsd24 or []) if s < 0)
        assert METALLOID_ANION_STATES[symbol] == negative, symbol
        assert set(negative) <= set(allowed_states(symbol))


def test_zero_only_for_metals():
    for symbol in ("Li", "Fe", "Al", "Sn", "Bi", "La"):
        assert 0 in allowed_states(symbol), symbol
    for symbol in ("O", "F", "Cl", "N", "Si", "Ge", "B", "Te"):
        assert 0 not in allowed_states(symbol), symbol


@pytest.mark.parametrize(
    "formula",
    ["Li15Si4", "Li21Si5", "Li13Si4", "Li7Si3", "LiSi", "Li15Ge4", "Li17Ge4", "LiGe", "Mg2Si", "Li3Sb"],
)
def test_lithium_silicides_and_germanides_pass(formula):
    """Li15Si4 is the paper's example of what the relaxed rule admits; the other Li-Si and Li-Ge phases
    are known compounds too."""
    assert passes_relaxed_charge_rule(formula)


def test_li15si4_needs_the_relaxation():
    """Strict SMACT neutrality with the same states rejects Li15Si4 (Si would sit at -15/4): the rule's
    relaxed element is what admits it."""
    assert not _smact_balances(["Li", "Si"], [15, 4])
    assert not passes_relaxed_charge_rule("Li15Si4", max_relaxed=0)
    assert passes_relaxed_charge_rule("Li15Si4", max_relaxed=1)


def test_a_rounds_enumeration_reaches_li15si4_and_lists_small_formulas_first():
    out = enumerate_compositions(["Li", "Si", "O"], max_atoms=MAX_FORMULA_ATOMS)
    formulas = [c.reduced_formula for c in out]
    assert {"Li15Si4", "Li13Si4", "LiSi", "Li2Si", "Li4SiO4"} <= set(formulas)
    keys = [(len(c), c.num_atoms) for c in out]
    assert keys == sorted(keys)
    small = enumerate_compositions(["Li", "Si", "O"], max_atoms=MAX_FORMULA_ATOMS, budget=5)
    assert small == out[:5] and max(c.num_atoms for c in small) <= 3


@pytest.mark.parametrize(
    "formula", ["NaCl2", "KF3", "LiF2", "Li3F4", "MgCl3", "CaF3", "LiO5", "MgO3", "Na2F3"]
)
def test_impossible_compositions_stay_rejected(formula):
    """Neither SMACT's validity test (its ICSD-2024 states, mixed valence allowed) nor pymatgen's
    oxidation-state guesses (mixed valence over sites) balance these; the relaxed rule rejects them too."""
    from smact.screening import smact_validity

    composition = Composition(formula)
    assert not smact_validity(formula, use_pauling_test=False, mixed_valence=True)
    assert not composition.oxi_state_guesses(max_sites=-20)
    assert not passes_relaxed_charge_rule(composition)


def _smact_balances(symbols: list[str], counts: list[int]) -> bool:
    """SMACT's charge-neutrality test (``smact.neutral_ratios``) over every choice of the rule's states."""
    return any(
        smact.neutral_ratios(list(choice), stoichs=[[n] for n in counts])
        for choice in itertools.product(*(allowed_states(s) for s in symbols))
    )


def test_everything_smact_balances_passes():
    """Each composition that SMACT's own neutrality test balances with the rule's states passes (the
    relaxation only ever admits more), over small Li/Mn/Si/O/F compositions."""
    symbols = ["Li", "Mn", "Si", "O", "F"]
    checked = 0
    for subset in itertools.combinations(symbols, 3):
        for counts in itertools.product(range(1, 5), repeat=3):
            if _smact_balances(list(subset), list(counts)):
                checked += 1
                assert passes_relaxed_charge_rule(Composition(dict(zip(subset, counts, strict=True)))), (
                    subset,
                    counts,
                )
    assert checked > 50
