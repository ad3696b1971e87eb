"""Formulas as people type them (hull/formula_input.py): case-insensitive readings checked against pymatgen's
Composition over the real Materials Project formulas, and anonymous formulas that keep named elements."""

import gzip
import json
import re

import pytest
from pymatgen.core import Composition

from hull.errors import CatalogueError
from hull.formula_input import formula_readings, read_anonymous
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def mp_formulas() -> list[str]:
    with gzip.open(shared_file("mp_entries.json.gz"), "rt") as handle:
        return sorted({Composition(item["composition"]).reduced_formula for item in json.load(handle)})


def reduced(formula: str) -> str:
    return Composition(formula).reduced_formula


def test_every_mp_formula_reads_back_in_small_letters_and_capitals(mp_formulas):
    first = 0
    for formula in mp_formulas:
        for typed in (formula.lower(), formula.upper()):
            readings = [reduced(reading) for reading in formula_readings(typed)]
            assert formula in readings, (typed, readings)
            first += readings[0] == formula
    # The rest are C-O against Co (K2CO3 and K2Co3 both balance nothing better): the page links the others.
    assert first >= 0.95 * 2 * len(mp_formulas)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("licoo2", "LiCoO2"),
        ("LICOO2", "LiCoO2"),
        ("O2CoLi", "LiCoO2"),
        ("lifepo4", "LiFePO4"),  # not polonium
        ("li2co3", "Li2CO3"),  # the carbonate balances, Li2Co3 does not
        ("caco3", "CaCO3"),
        ("sno2", "SnO2"),
        ("nano3", "NaNO3"),  # not nobelium
        ("NACL", "NaCl"),
        ("h2o", "H2O"),
    ],
)
def test_the_reading_a_chemist_means_comes_first(typed, meant):
    assert reduced(formula_readings(typed)[0]) == reduced(meant)


def test_mixed_case_is_read_as_written():
    assert formula_readings("CO") == ["Co", "CO"]  # capitals only: the case says nothing
    assert formula_readings("Co") == ["Co"]
    assert formula_readings("LiCOO2") == ["LiCOO2"]  # as written, though odd
    assert formula_readings("Licoo2")[0] == "LiCoO2"  # not readable as written


@pytest.mark.parametrize("typed", ["xyz", "qq2", "l", "Li2Oq" * 30])
def test_unreadable_formulas_name_the_input(typed):
    with pytest.raises(CatalogueError, match=typed[:10]):
        formula_readings(typed)


def matches(pattern, formula: str) -> bool:
    """Whether pymatgen's composition fits the pattern: the same atomic fractions, and each named element with its
    fraction (any, where all amounts are the same)."""
    fractions = Composition(formula).fractional_composition.get_el_amt_dict()
    wanted = [float(amount or 1) for amount in re.findall(r"[A-Z][a-z]*([0-9.]*)", pattern.anonymous)]
    if sorted(fractions.values()) != pytest.approx(sorted(amount / sum(wanted) for amount in wanted)):
        return False
    return all(
        element in fractions
        and (amount is None or fractions[element] == pytest.approx(float(amount or 1) / sum(wanted)))
        for element, amount in pattern.named
    )


@pytest.mark.parametrize(
    ("typed", "anonymous", "named", "fits", "misfits"),
    [
        ("ABO3", "A3BC", (("O", "3"),), ["SrTiO3", "KClO3", "LiNbO3"], ["K3ClO", "KMnCl3", "SrTiS3"]),
        ("abo3", "A3BC", (("O", "3"),), ["SrTiO3"], ["K3ClO"]),
        ("A2BO4", "A4B2C", (("O", "4"),), ["Mg2SiO4", "Li2MnO4"], ["Li4MnO2"]),
        ("LiMO2", "A2BC", (("Li", ""), ("O", "2")), ["LiCoO2"], ["NaCoO2", "Li2CoO"]),
        ("AB2", "A2B", (), ["TiO2", "Li2O"], ["LiO"]),
        ("ABC3", "A3BC", (), ["SrTiO3", "K3ClO"], ["SrTiO4"]),
        ("ABX3", "A3BC", (), ["CsPbI3"], []),
        ("AO", "AB", (("O", None),), ["MgO", "Li2O2"], ["MgS"]),
    ],
)
def test_anonymous_formulas_keep_named_elements(typed, anonymous, named, fits, misfits):
    pattern = read_anonymous(typed)
    assert (pattern.anonymous, pattern.named) == (anonymous, named)
    assert read_anonymous(pattern.text) == pattern  # the written-back pattern reads the same
    assert all(matches(pattern, formula) for formula in fits)
    assert not any(matches(pattern, formula) for formula in misfits)


def test_anonymous_formula_text_avoids_the_next_letter():
    pattern = read_anonymous("MXC")  # M and X any; C is carbon (no A: the letters from A do not start)
    assert pattern.named == (("C", None),)
    assert read_anonymous(pattern.text) == pattern and "B" not in pattern.text
