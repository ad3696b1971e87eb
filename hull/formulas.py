"""Formula and chemical-system helpers over pymatgen compositions. Pure: no Django import."""

import math
import string
from collections.abc import Iterable, Mapping

from pymatgen.core import Composition, Element

from hull.errors import CatalogueError


def chemsys_from_elements(elements: Iterable[str]) -> str:
    """``["O", "Li", "Fe"]`` -> ``"Fe-Li-O"`` (sorted alphabetically, duplicates removed)."""
    return "-".join(sorted(set(elements)))


def anonymous_formula(composition: Composition | Mapping[str, float]) -> str:
    """The OPTIMADE anonymous formula of the reduced composition: ``Li2O`` -> ``A2B``, ``LiFePO4`` -> ``A4BCD``.

    Amounts are sorted in descending order and get letters A, B, ..., Z, Aa, Ba, ... in that order.
    """
    comp = composition if isinstance(composition, Composition) else Composition(composition)
    amounts = sorted(reduced_amounts([comp[el] for el in comp.elements]), reverse=True)
    parts = []
    for i, amount in enumerate(amounts):
        parts.append(anonymous_symbol(i) + (format_amount(amount) if amount != 1 else ""))
    return "".join(parts)


def parse_composition(text: str) -> Composition:
    """A composition from a formula, with a clear error for unknown elements or bad syntax."""
    try:
        comp = Composition(text)
    except (ValueError, KeyError) as exc:
        raise CatalogueError(f"cannot read formula {text!r}: {exc}") from exc
    if not all(math.isfinite(amount) for amount in comp.values()) or not math.isfinite(comp.num_atoms):
        raise CatalogueError(f"cannot read formula {text!r}: an amount is too large (not a finite number)")
    if comp.num_atoms <= 0:
        raise CatalogueError(f"formula {text!r} has no atoms")
    unknown = [str(el) for el in comp.elements if not isinstance(el, Element)]
    if unknown:
        raise CatalogueError(f"cannot read formula {text!r}: unknown element {unknown[0].rstrip('0+-')!r}")
    return comp


def parse_elements(values: Iterable[str]) -> list[str]:
    """Element symbols in any case (``li``, ``LI``) checked against the periodic table, written as symbols
    (``Li``), sorted and unique."""
    out = set()
    for raw in values:
        typed = raw.strip()
        if not typed:
            continue
        symbol = typed.capitalize()
        if not Element.is_valid_symbol(symbol):
            raise CatalogueError(f"unknown element {typed!r}")
        out.add(symbol)
    return sorted(out)


def parse_chemsys(text: str) -> str:
    """``"O-Li-Fe"`` -> ``"Fe-Li-O"``; unknown or repeated elements raise ``CatalogueError``."""
    parts = [p.strip() for p in text.replace(",", "-").split("-")]
    if not text.strip() or any(not p for p in parts):
        raise CatalogueError(
            f"malformed chemical system {text!r} (expected elements joined by '-', e.g. Fe-Li-O)"
        )
    elements = parse_elements(parts)
    if len(elements) != len(parts):
        raise CatalogueError(f"chemical system {text!r} repeats an element")
    return "-".join(elements)


def reduced_amounts(amounts: list[float]) -> list[float]:
    """Amounts divided by their greatest common divisor (pymatgen's reduced composition keeps O2 and Li2O2 as
    they are; an anonymous formula must not)."""
    if all(abs(a - round(a)) < 1e-8 for a in amounts):
        divisor = math.gcd(*(int(round(a)) for a in amounts))
        return [round(a) / divisor for a in amounts]
    smallest = min(amounts)
    return [round(a / smallest, 8) for a in amounts]


def anonymous_symbol(index: int) -> str:
    first = string.ascii_uppercase[index % 26]
    return first if index < 26 else first + string.ascii_lowercase[index // 26 - 1]


def format_amount(amount: float) -> str:
    return str(int(amount)) if float(amount).is_integer() else f"{amount:g}"
