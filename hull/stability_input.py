"""What the stability check accepts as a hypothetical entry: its composition (a formula, an element -> amount
mapping or a structure) and its energy. Each rule raises ``CatalogueError`` with a sentence that names the offending
value, never a Python message; the API puts it under the field that holds the value.

Amounts follow the ingest's own rule (``hull.ingest.checks.amount_problems``: positive, finite, at most
``PORTAL_MAX_AMOUNT``), structures the ingest's structure rules; on top of them a hypothetical entry has at most as
many elements as the hull engine handles, no element below ``MIN_FRACTION`` of the atoms (pymatgen drops amounts
below 1e-8 silently, the engine tells compositions apart to 1e-9) and an energy within ``MAX_ABS_ENERGY_PER_ATOM``.
"""

import math
import re
from collections.abc import Mapping

from pymatgen.core import Composition, Element, Structure

from hull.errors import CatalogueError
from hull.ingest.checks import Limits, amount_problems, raw_structure_problems, shown
from hull.search import MAX_ELEMENTS

ELEMENT_SYMBOLS = frozenset(element.symbol for element in Element)
MIN_FRACTION = 1e-6
"""The smallest share of the atoms one element may have."""
MAX_ABS_ENERGY_PER_ATOM = 1e3
"""eV/atom. Computed energies lie within tens of eV/atom; beyond this a value is a unit or typing error, and the
hull's geometry would lose its precision to it."""
MAX_FORMULA_LENGTH = 200
_SYMBOL_IN_FORMULA = re.compile(r"[A-Z][a-z]?")


def number(value: object, name: str) -> float:
    """A JSON number as a float: refuses booleans, text, None, non-finite values and integers too large for a
    float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CatalogueError(f"{name} must be a number, not {_kind(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise CatalogueError(f"{name} is out of range: {shown(value)}") from None
    if not math.isfinite(result):
        raise CatalogueError(f"{name} must be a finite number, not {result!r}")
    return result


def checked_energy_per_atom(value: object, name: str = "energy_per_atom") -> float:
    """An energy per atom (eV/atom) within ``MAX_ABS_ENERGY_PER_ATOM``."""
    energy = number(value, name)
    if abs(energy) > MAX_ABS_ENERGY_PER_ATOM:
        raise CatalogueError(
            f"{name} of {energy:g} eV/atom is out of range: at most {MAX_ABS_ENERGY_PER_ATOM:g} eV/atom either way"
        )
    return energy


def checked_composition(composition: object, limits: Limits) -> dict[str, float]:
    """An element symbol -> amount mapping as floats, or ``CatalogueError`` naming what is wrong."""
    if not isinstance(composition, Mapping) or not composition:
        raise CatalogueError("composition must be a formula or a non-empty object of element -> amount")
    unknown = [symbol for symbol in composition if symbol not in ELEMENT_SYMBOLS]
    if unknown:
        raise CatalogueError(f"{shown(unknown[0])} is not an element symbol")
    amounts = {symbol: _amount(symbol, value) for symbol, value in composition.items()}
    problems = amount_problems(amounts, limits)
    if problems:
        raise CatalogueError(problems[0])
    if len(amounts) > MAX_ELEMENTS:
        raise CatalogueError(
            f"{len(amounts)} elements: at most {MAX_ELEMENTS} are supported (the hull engine's limit)"
        )
    total = sum(amounts.values())
    for symbol, amount in amounts.items():
        if amount / total < MIN_FRACTION:
            raise CatalogueError(
                f"{symbol} makes up {amount / total:.1e} of the atoms: each element must make up at least "
                f"{MIN_FRACTION:g} of them"
            )
    return amounts


def composition_of_formula(text: object, limits: Limits) -> dict[str, float]:
    """A formula (``LiFeO2``, ``Li(OH)2``) read by pymatgen, refused where pymatgen would drop an element it names
    (``LiO0``) or cannot read it."""
    if not isinstance(text, str):
        raise CatalogueError(f"a formula must be text, not {_kind(text)}")
    if len(text) > MAX_FORMULA_LENGTH:
        raise CatalogueError(f"the formula is {len(text)} characters long: at most {MAX_FORMULA_LENGTH}")
    named = set(_SYMBOL_IN_FORMULA.findall(text))
    unknown = sorted(named - ELEMENT_SYMBOLS)
    if unknown:
        raise CatalogueError(f"{shown(text)} names {shown(unknown[0])}, which is not an element symbol")
    try:
        amounts = Composition(text).get_el_amt_dict()
    except Exception:  # noqa: BLE001 - pymatgen's parser raises several types, none with a message for users
        raise CatalogueError(
            f"{shown(text)} is not a formula pymatgen can read (e.g. LiFeO2, Li2O)"
        ) from None
    dropped = sorted(named - set(amounts))
    if dropped:
        raise CatalogueError(f"the amount of {dropped[0]} in {shown(text)} is zero or too small")
    return checked_composition(amounts, limits)


def composition_of_structure(structure: object, limits: Limits) -> dict[str, float]:
    """The composition of a pymatgen ``Structure.as_dict()``, checked by the ingest's structure rules first."""
    problems = raw_structure_problems(structure, limits)
    if problems:
        raise CatalogueError(problems[0])
    try:
        amounts = Structure.from_dict(structure).composition.get_el_amt_dict()
    except Exception:  # noqa: BLE001 - pymatgen raises several types on a malformed dict
        raise CatalogueError("structure cannot be read as a pymatgen Structure.as_dict()") from None
    return checked_composition(amounts, limits)


def _amount(symbol: str, value: object) -> float:
    return number(value, f"the amount of {symbol}")


def _kind(value: object) -> str:
    names = {bool: "a boolean", str: "text", list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), shown(value))
