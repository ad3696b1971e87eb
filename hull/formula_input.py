"""Formulas as people type them, read as a chemist means them. Pure: no Django import.

- :func:`formula_readings`: a formula in any case and order (``licoo2``, ``LICOO2``, ``O2CoLi``). A formula written
  with both capitals and small letters is read as written where it can be; otherwise (all small, all capitals:
  the case says nothing) its letters are matched to
  element symbols in any case, and where that allows several readings (``co``: Co or C and O) the one a chemist
  means comes first: no rarely meant element (a noble gas or a radioactive element such as Po or No, so
  ``lifepo4`` is LiFePO4), then one whose charges balance in common oxidation states (``li2co3`` is the
  carbonate, ``licoo2`` LiCoO2), then the fewest symbols (two-letter symbols over pairs of one-letter ones,
  ``co`` is Co).
- :func:`read_anonymous`: an anonymous formula that may keep named elements. The letters A, B, C, ... taken in
  turn from A, and any letter or pair that is no element symbol (M, X, Aa), stand for any element, each a
  different one; every other element symbol names that element. So ``ABO3`` is A1B1O3 with O oxygen (oxides),
  ``ABC3`` and ``AB2`` stay fully anonymous, ``LiMO2`` keeps lithium and oxygen. Written in small letters, each
  letter is one symbol: ``abo3`` is ``ABO3``.
"""

import math
import re
from dataclasses import dataclass
from functools import lru_cache

from pymatgen.core import Element

from hull.errors import CatalogueError
from hull.formulas import anonymous_symbol, format_amount, parse_composition, reduced_amounts

# Elements almost never meant where their symbol is one reading of typed letters among others.
NOBLE_GASES = ("He", "Ne", "Ar", "Kr", "Xe", "Rn")
RARELY_MEANT = frozenset(
    NOBLE_GASES
    + ("Tc", "Pm")
    + tuple(Element.from_Z(z).symbol for z in range(84, 119) if z not in (90, 92))  # Po on, but Th and U
)
MAX_TYPED = 100  # characters of a typed formula
MAX_BALANCED_ATOMS = 24  # atoms of a formula unit whose charge balance is tried
MAX_READINGS = 64  # readings of its letters kept (each ambiguous pair of letters doubles them)
AMOUNT = r"(?:[0-9]+(?:\.[0-9]+)?)?"
ANONYMOUS_TOKEN = re.compile(rf"([A-Z][a-z]*)({AMOUNT})")
LOWER_TOKEN = re.compile(rf"([a-z])({AMOUNT})")


def _reads(text: str) -> bool:
    try:
        parse_composition(text)
    except CatalogueError:
        return False
    return True


def _letter_readings(text: str) -> list[tuple[str, int, int]]:
    """Every way to read ``text``'s letters as element symbols in any case, other characters kept: (formula,
    rarely meant elements, symbols), at most :data:`MAX_READINGS`."""
    readings = [("", 0, 0)]
    i = 0
    while i < len(text):
        if not text[i].isalpha():
            readings = [(done + text[i], rare, n) for done, rare, n in readings]
            i += 1
            continue
        run = i
        while run < len(text) and text[run].isalpha():
            run += 1
        readings = [
            (done + word, rare + more, n + count)
            for done, rare, n in readings
            for word, more, count in _symbol_splits(text[i:run])
        ][:MAX_READINGS]
        i = run
    return readings


def _symbol_splits(letters: str) -> list[tuple[str, int, int]]:
    """The ways to split a run of letters into element symbols of one or two letters, in any case."""
    if not letters:
        return [("", 0, 0)]
    splits = []
    for size in (2, 1):
        symbol = letters[:size].capitalize()
        if len(letters) >= size and Element.is_valid_symbol(symbol):
            rare = int(symbol in RARELY_MEANT)
            splits += [
                (symbol + rest, rare + more, 1 + n) for rest, more, n in _symbol_splits(letters[size:])
            ]
    return splits[:MAX_READINGS]


def formula_readings(text: str) -> list[str]:
    """The readings of a typed formula, the one meant first (see the module doc); a formula with both capitals and
    small letters that reads as written has that one reading. ``CatalogueError`` naming it where none reads."""
    return list(_formula_readings(text.strip()))


@lru_cache(maxsize=1024)  # a search page reads its formula twice (the search, the note on its reading)
def _formula_readings(typed: str) -> tuple[str, ...]:
    if len(typed) > MAX_TYPED:
        raise CatalogueError(f"formula {typed[:20]!r}... is longer than {MAX_TYPED} characters")
    letters = [c for c in typed if c.isalpha()]
    mixed = any(c.isupper() for c in letters) and any(c.islower() for c in letters)
    if mixed and _reads(typed):
        return (typed,)
    candidates = {}
    for order, (reading, rare, symbols) in enumerate(_letter_readings(typed)):
        if reading not in candidates and _reads(reading):
            candidates[reading] = (rare, symbols, order)
    if not candidates:
        parse_composition(typed)  # the error names what does not read
        raise CatalogueError(f"cannot read formula {typed!r}: its letters are no element symbols in any case")
    if len(candidates) > 1:
        candidates = {
            reading: (rare, not _balanced(reading), symbols, order)
            for reading, (rare, symbols, order) in candidates.items()
        }
    return tuple(sorted(candidates, key=candidates.__getitem__))


def _balanced(formula: str) -> bool:
    """Whether some common oxidation states balance the formula's charge (an element or alloy does, at 0): a
    chemist who types li2co3 means the carbonate, not Li2Co3. A formula unit over :data:`MAX_BALANCED_ATOMS`
    atoms is not tried (the guess grows with it) and counts as balanced."""
    composition = parse_composition(formula).reduced_composition
    if composition.num_atoms > MAX_BALANCED_ATOMS:
        return True
    return bool(composition.oxi_state_guesses(max_sites=-1))


@dataclass(frozen=True)
class AnonymousPattern:
    """An anonymous formula with its named elements: ``anonymous`` is the OPTIMADE anonymous formula of all its
    amounts (``A3BC`` for ABO3), ``named`` each named element with its amount as pymatgen's reduced formula writes
    it, or ``None`` where every amount is the same (then containing the element is the whole condition)."""

    anonymous: str
    named: tuple[tuple[str, str | None], ...]

    @property
    def text(self) -> str:
        """The pattern written back (``ABO3``): placeholders in decreasing amount, then the named elements."""
        return pattern_text(self.anonymous, self.named)


def _anonymous_text(amounts: list[float]) -> str:
    return "".join(
        anonymous_symbol(i) + (format_amount(a) if a != 1 else "")
        for i, a in enumerate(sorted(amounts, reverse=True))
    )


def read_anonymous(text: str) -> AnonymousPattern:
    """An anonymous formula, with named elements where it keeps some (see the module doc)."""
    typed = "".join(text.split())
    wrong = f"{typed[:40]!r} is not an anonymous formula (expected letters and amounts, e.g. ABC3 or ABO3)"
    if not typed or len(typed) > MAX_TYPED:
        raise CatalogueError(wrong)
    lower = not any(c.isupper() for c in typed)
    tokens = (LOWER_TOKEN if lower else ANONYMOUS_TOKEN).findall(typed)
    if "".join(name + amount for name, amount in tokens) != typed:
        raise CatalogueError(wrong)
    names = [name.upper() if lower else name for name, _ in tokens]
    if len(set(names)) != len(names):
        raise CatalogueError(f"{typed!r} is not an anonymous formula (a letter or element is repeated)")
    amounts = []
    for _, amount in tokens:
        value = float(amount) if amount else 1.0
        if not 0 < value < math.inf:
            raise CatalogueError(f"{typed!r} is not an anonymous formula (amount {amount!r} out of range)")
        amounts.append(value)
    run = set()
    for letter in map(chr, range(ord("A"), ord("Z") + 1)):
        if letter not in names:
            break
        run.add(letter)
    reduced = reduced_amounts(amounts)
    named = {
        name: amount
        for name, amount in zip(names, reduced, strict=True)
        if name not in run and Element.is_valid_symbol(name)
    }
    if named and any(not float(amount).is_integer() for amount in reduced):
        raise CatalogueError(f"anonymous formula {typed!r} names elements: give whole amounts")
    same = len(set(reduced)) == 1
    return AnonymousPattern(
        anonymous=_anonymous_text(reduced),
        named=tuple(
            (name, None if same else (format_amount(amount) if amount != 1 else ""))
            for name, amount in sorted(named.items())
        ),
    )


def pattern_text(anonymous: str, named: tuple[tuple[str, str | None], ...]) -> str:
    """An anonymous formula and its named elements written as one pattern that :func:`read_anonymous` reads back:
    ``("A3BC", (("O", "3"),))`` -> ``ABO3``."""
    amounts = [float(a) if a else 1.0 for _, a in ANONYMOUS_TOKEN.findall(anonymous)]
    if not named:
        return anonymous
    if all(amount is None for _, amount in named):
        named = tuple((name, format_amount(amounts[0]) if amounts[0] != 1 else "") for name, _ in named)
    for _, amount in named:
        amounts.remove(float(amount) if amount else 1.0)
    letters = [anonymous_symbol(i) for i in range(len(amounts))]
    if anonymous_symbol(len(amounts)) in {name for name, _ in named}:  # B after A would be read as a letter
        letters = [
            chr(code) for code in range(ord("A"), ord("Z") + 1) if not Element.is_valid_symbol(chr(code))
        ]
    placeholders = [
        letter + (format_amount(a) if a != 1 else "")
        for letter, a in zip(letters, sorted(amounts, reverse=True), strict=False)
    ]
    return "".join(placeholders) + "".join(f"{name}{amount}" for name, amount in named)


def reduced_formula_pattern(element: str, amount: str) -> str:
    """A regular expression finding ``element`` with ``amount`` in a pymatgen reduced formula (``O3`` in SrTiO3,
    not in SrTiO or Os3)."""
    return f"{element}{re.escape(amount)}([A-Z]|$)"
