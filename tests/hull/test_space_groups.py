"""Space groups as people type them (hull/space_groups.py), checked against spglib's and pymatgen's tables."""

import re

import pytest
import spglib
from pymatgen.symmetry.groups import SpaceGroup

from hull.errors import CatalogueError
from hull.space_groups import HALL_NUMBERS, space_group_number, space_group_symbol


def spellings(symbol: str) -> set[str]:
    """What people write for a short symbol: as it is, without the screw axes' underscores, in small letters or in
    capitals."""
    plain = symbol.replace("_", "")
    return {symbol, plain, plain.lower(), symbol.upper()}


@pytest.mark.parametrize("number", range(1, 231))
def test_every_number_and_its_spellings(number):
    symbol = space_group_symbol(number)
    assert SpaceGroup(symbol).int_number == number  # pymatgen reads the stored symbol as the same group
    assert space_group_number(str(number)) == number
    for spelling in spellings(symbol):
        assert space_group_number(spelling) == number, spelling


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_every_setting_of_spglib_and_pymatgen_is_read():
    for hall in HALL_NUMBERS:
        kind = spglib.get_spacegroup_type(hall)
        spaced = kind.international.replace("_", "")  # P 63/m m c
        for symbol in (kind.international_short, kind.international_full, kind.international, spaced):
            if symbol.replace(" ", "") not in ("P-3m", "P-3c"):  # see test_ambiguous_symbols
                assert space_group_number(symbol) == kind.number, symbol
    for setting in SpaceGroup.SYMM_OPS:
        assert space_group_number(setting["universal_h_m"]) == setting["number"]


def test_the_stored_symbol_is_spglibs_standard_one():
    # what SpacegroupAnalyzer.get_space_group_symbol gives at ingest: the short symbol of the standard setting
    assert space_group_symbol(194) == "P6_3/mmc"
    assert space_group_symbol(space_group_number("P2_1/n")) == "P2_1/c"
    assert space_group_number("P 6_3/m 2/m 2/c") == space_group_number("p63/mmc") == 194


def test_ambiguous_symbols():
    with pytest.raises(CatalogueError, match=r"'P-3m' is ambiguous: write P-31m \(162\) or P-3m1 \(164\)"):
        space_group_number("P-3m")


@pytest.mark.parametrize("typed", ["P7", "231", "0", "Fm-3q", "", "9" * 5000, "²"])
def test_unknown_space_groups_are_refused_by_name(typed):
    with pytest.raises(CatalogueError, match=re.escape(repr(typed)[:40])):
        space_group_number(typed)
