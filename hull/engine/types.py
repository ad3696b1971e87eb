"""Value objects and chemical-system helpers of the pure convex-hull engine.

No Django, no pymatgen: plain frozen dataclasses that can be stored and rebuilt
without recomputing, plus small pure functions on chemical-system strings
("Fe-Li-O": element symbols sorted alphabetically, joined by "-").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class PhaseEntry:
    """One catalogue entry as the engine sees it.

    ``composition`` maps element symbols to amounts (any normalisation, amounts > 0);
    ``energy_per_atom`` is in eV/atom on the corrected (e.g. MP2020) scale.
    Construction rejects NaN/infinite energies and empty or non-positive compositions
    with a ``ValueError`` naming the key.
    """

    key: int
    composition: Mapping[str, float]
    energy_per_atom: float

    def __post_init__(self) -> None:
        check_entry(self)


class EntryThermo(NamedTuple):
    """Thermodynamic quantities of one entry relative to the hull of its own chemical system.

    All energy fields are ``None`` (and ``missing_elements`` non-empty) when an element of
    the entry's chemical system has no elemental reference in the data. A named tuple, not
    a frozen dataclass: a build makes one per entry, and a tuple is made several times
    faster (and pickles to worker processes as one).
    """

    key: int
    chemsys: str
    formation_energy_per_atom: float | None
    e_above_hull: float | None
    decomposition: dict[int, float] | None
    decomposition_energy: float | None
    is_stable: bool | None
    missing_elements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SystemHull:
    """The lower convex hull of one chemical system (its subsystems included)."""

    chemsys: str
    elements: tuple[str, ...]
    stable_keys: tuple[int, ...]
    facets: tuple[tuple[int, ...], ...]
    missing_elements: tuple[str, ...]


@dataclass(frozen=True)
class HullResult:
    """Thermo of every computed entry and the hull of every computed chemical system.

    ``inputs`` caches, per computed system, what it was computed from (its parsed entries
    and its own stable points), so ``update_hulls`` need not parse the catalogue again. It
    is not part of the result's value: equality compares thermo and hulls only.
    """

    thermo: dict[int, EntryThermo]
    hulls: dict[str, SystemHull]
    inputs: dict[str, tuple] = field(default_factory=dict, compare=False, repr=False)
    derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    """What updates derive from the state and keep for the next one (the systems indexed by element)."""


def check_entry(entry: PhaseEntry) -> None:
    """Raise ``ValueError`` naming the key if the entry cannot enter a hull."""
    energy = entry.energy_per_atom
    if not isinstance(energy, int | float) or not math.isfinite(energy):
        raise ValueError(f"entry {entry.key}: energy_per_atom must be a finite number, got {energy!r}")
    if not entry.composition:
        raise ValueError(f"entry {entry.key}: empty composition")
    for element, amount in entry.composition.items():
        if not isinstance(element, str) or not element:
            raise ValueError(f"entry {entry.key}: bad element symbol {element!r}")
        if not math.isfinite(amount) or amount <= 0:
            raise ValueError(f"entry {entry.key}: amount of {element} must be finite and > 0, got {amount!r}")


def chemsys_of(composition: Mapping[str, float] | Iterable[str]) -> str:
    """Chemical-system string of a composition (or of an iterable of element symbols)."""
    return "-".join(sorted(set(composition)))


def elements_of(chemsys: str) -> tuple[str, ...]:
    """Sorted element symbols of a chemical-system string."""
    return tuple(sorted(chemsys.split("-")))


def subsystems(chemsys: str, *, proper: bool = False) -> list[str]:
    """All non-empty chemical subsystems of ``chemsys`` (itself included unless ``proper``).

    Ordered by number of elements, then alphabetically: every system comes after all of
    its own subsystems.
    """
    elements = elements_of(chemsys)
    top = len(elements) - 1 if proper else len(elements)
    return ["-".join(combo) for size in range(1, top + 1) for combo in combinations(elements, size)]


def is_subsystem(a: str, b: str) -> bool:
    """Whether chemical system ``a`` is contained in (or equal to) ``b``."""
    return set(a.split("-")) <= set(b.split("-"))


def system_order(chemsys: str) -> tuple[int, str]:
    """Sort key that puts every chemical system after its subsystems (bottom-up order)."""
    return (chemsys.count("-"), chemsys)
