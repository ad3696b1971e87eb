"""Formula helpers: OPTIMADE anonymous formulas (also for pymatgen's special diatomic cases) and parsing."""

import pytest

from hull.errors import CatalogueError
from hull.formula_input import read_anonymous
from hull.formulas import anonymous_formula, parse_chemsys, parse_composition, parse_elements


@pytest.mark.parametrize(
    ("composition", "expected"),
    [
        ({"O": 2}, "A"),
        ({"Li": 2, "O": 2}, "AB"),
        ({"Li": 2, "O": 1}, "A2B"),
        ({"Fe": 3, "O": 4}, "A4B3"),
        ({"Li": 1, "Fe": 1, "P": 1, "O": 4}, "A4BCD"),
        ({"Li": 0.5, "O": 0.25}, "A2B"),
    ],
)
def test_anonymous_formula(composition, expected):
    assert anonymous_formula(composition) == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("ABC3", "A3BC"), ("AB2", "A2B"), ("A2B", "A2B"), ("A", "A"), ("a2b", "A2B")]
)
def test_fully_anonymous_formulas_take_the_optimade_order(text, expected):
    pattern = read_anonymous(text)
    assert (pattern.anonymous, pattern.named) == (expected, ())


@pytest.mark.parametrize("text", ["A²", "", "A2.3.4B", "AB2A", "A0B"])
def test_bad_anonymous_formulas_are_clear_errors(text):
    with pytest.raises(CatalogueError, match="not an anonymous formula"):
        read_anonymous(text)


def test_parsing_errors_name_the_problem():
    with pytest.raises(CatalogueError, match="unknown element 'Qq'"):
        parse_composition("Qq2O")
    with pytest.raises(CatalogueError, match="repeats an element"):
        parse_chemsys("Li-O-Li")
    assert parse_chemsys("O-Li-Fe") == "Fe-Li-O"
    assert parse_chemsys("o-LI-fe") == "Fe-Li-O"
    assert parse_elements(["li", "CO", "o"]) == ["Co", "Li", "O"]
    with pytest.raises(CatalogueError, match="unknown element 'lix'"):
        parse_elements(["lix"])
