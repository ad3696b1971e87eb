"""Space groups as people type them: ``P6_3/mmc``, ``P63/mmc``, ``p63/mmc``, ``P 6_3/m m c``, the full symbol
``P 6_3/m 2/m 2/c``, a setting (``P2_1/n`` is number 14) or the number ``194``. Pure: no Django import.

Every spelling is looked up in spglib's table of the 530 Hall settings and pymatgen's table of settings
(``SpaceGroup.SYMM_OPS``), each symbol compared without spaces, underscores, a setting suffix (``:H``, ``:2``) or
case; the symbol the catalogue stores for a number is spglib's short symbol of its standard setting (what
``SpacegroupAnalyzer.get_space_group_symbol`` gives at ingest)."""

import warnings
from functools import cache

import spglib
from pymatgen.symmetry.groups import SpaceGroup

from hull.errors import CatalogueError

HALL_NUMBERS = range(1, 531)


def symbol_key(text: str) -> str:
    """What two spellings of a symbol share: no spaces or underscores, lower case, a plain minus sign."""
    return "".join(text.replace("\u2212", "-").replace("_", "").split()).lower()


@cache
def _tables() -> tuple[dict[str, set[int]], dict[int, str]]:
    """(spelling key -> the numbers it names, number -> stored symbol). One key names two numbers: ``P-3m`` (and
    ``P-3c``), which leaves out the axis that tells P-3m1 (164) from P-31m (162)."""
    spellings: dict[str, set[int]] = {}
    standard: dict[int, str] = {}

    def add(symbol: str, number: int) -> None:
        for text in (symbol, symbol.split(":")[0]):
            spellings.setdefault(symbol_key(text), set()).add(number)

    with warnings.catch_warnings():  # spglib 2.x warns about its old error handling on each call
        warnings.simplefilter("ignore", DeprecationWarning)
        kinds = [spglib.get_spacegroup_type(hall) for hall in HALL_NUMBERS]
    for kind in kinds:
        standard.setdefault(kind.number, kind.international_short)
        for symbol in (kind.international_short, kind.international_full, kind.international):
            add(symbol, kind.number)
    for setting in SpaceGroup.SYMM_OPS:
        for name in ("universal_h_m", "hermann_mauguin", "short_h_m", "hermann_mauguin_u"):
            add(setting[name], setting["number"])
    for short, full in SpaceGroup.abbrev_sg_mapping.items():
        numbers = spellings.get(symbol_key(full), set())
        if len(numbers) == 1:
            add(short, next(iter(numbers)))
    return spellings, standard


def space_group_number(text: str) -> int:
    """The international number of a space group typed as a symbol in any common spelling or as its number."""
    typed = text.strip()
    if typed.isascii() and typed.isdigit():
        number = int(typed) if len(typed) <= 3 else 0
        if not 1 <= number <= 230:
            raise CatalogueError(f"space group {typed[:40]!r}: a space group number is between 1 and 230")
        return number
    numbers = _tables()[0].get(symbol_key(typed), set())
    if len(numbers) > 1:
        named = " or ".join(f"{space_group_symbol(number)} ({number})" for number in sorted(numbers))
        raise CatalogueError(f"space group {typed[:40]!r} is ambiguous: write {named}")
    if not numbers:
        raise CatalogueError(
            f"unknown space group {typed[:40]!r} (write a Hermann-Mauguin symbol such as P6_3/mmc, P63/mmc or "
            "P 63/m m c, or a number from 1 to 230)"
        )
    return next(iter(numbers))


def space_group_symbol(number: int) -> str:
    """The short symbol the catalogue stores for space group ``number`` (``194`` -> ``P6_3/mmc``)."""
    return _tables()[1][number]
