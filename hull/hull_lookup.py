"""Where arbitrary compositions sit against the hull of a hull set, now or as it stood at a moment.

Used by the discovery loop to rank candidates (predicted formation energies against the current hull) and to
judge evaluated ones against the hull as it stood when their round began. Read-only.
"""

from datetime import datetime

import numpy as np

from hull import engine
from hull.engine.geometry import LowerHull, build_lower_hull, hull_energies, locate
from hull.hull_sets import HULL_SETS
from hull.models import Entry
from hull.selectors import check_hull_set


class _SystemHull:
    def __init__(self, elements: list[str], refs: dict[str, float], lower: LowerHull | None) -> None:
        self.elements = elements
        self.refs = refs
        self.lower = lower


class HullLookup:
    """Formation energies and hull energies per atom for compositions, system by system (cached)."""

    def __init__(self, *, hull_set: str, as_of: datetime | None = None) -> None:
        check_hull_set(hull_set)
        self.hull_set = hull_set
        self.as_of = as_of
        self._systems: dict[str, _SystemHull | None] = {}

    def formation_energy(self, composition: dict[str, float], energy_per_atom: float) -> float | None:
        """Formation energy per atom against the elemental references of the hull set; None without them."""
        system = self._system(composition)
        if system is None:
            return None
        total = sum(composition.values())
        return energy_per_atom - sum(amount / total * system.refs[el] for el, amount in composition.items())

    def decomposition_energy(self, composition: dict[str, float], formation_energy: float) -> float | None:
        """Distance (eV/atom) of a point to the hull without it: negative below the hull, positive above."""
        system = self._system(composition)
        if system is None:
            return None
        if system.lower is None:  # a unary: the hull is the reference itself
            return formation_energy
        total = sum(composition.values())
        coords = np.array([[composition.get(el, 0.0) / total for el in system.elements[1:]]])
        facet, bary = locate(system.lower, coords)
        return float(formation_energy - hull_energies(system.lower, facet, bary)[0])

    def _system(self, composition: dict[str, float]) -> _SystemHull | None:
        chemsys = "-".join(sorted(composition))
        if chemsys not in self._systems:
            self._systems[chemsys] = self._build(chemsys)
        return self._systems[chemsys]

    def _rows(self, chemsys: str) -> list[tuple[object, dict[str, float], float]]:
        """``(id, composition, energy per atom)`` of the hull set's entries in ``chemsys`` and its subsystems."""
        queryset = Entry.objects.filter(
            chemsys_id__in=engine.subsystems(chemsys), method_family__in=sorted(HULL_SETS[self.hull_set])
        )
        if self.as_of is not None:
            queryset = queryset.filter(created_at__lte=self.as_of)
        return list(queryset.values_list("id", "composition", "energy_per_atom"))

    def _build(self, chemsys: str) -> _SystemHull | None:
        elements = chemsys.split("-")
        rows = self._rows(chemsys)
        refs: dict[str, float] = {}
        for _, comp, energy in rows:
            if len(comp) == 1:
                (el,) = comp
                refs[el] = min(refs.get(el, energy), energy)
        if any(el not in refs for el in elements):
            return None
        if len(elements) == 1:
            return _SystemHull(elements, refs, None)
        result = engine.compute_hulls([engine.PhaseEntry(pk, comp, energy) for pk, comp, energy in rows])
        stable = [
            (comp, result.thermo[pk].formation_energy_per_atom)
            for pk, comp, _ in rows
            if result.thermo[pk].is_stable
        ]
        coords = np.array([[c.get(el, 0.0) / sum(c.values()) for el in elements[1:]] for c, _ in stable])
        energies = np.array([e for _, e in stable])
        return _SystemHull(elements, refs, build_lower_hull(coords, energies))


class MemoryHullLookup(HullLookup):
    """The same answers for an in-memory set of entries (the rediscovery benchmark's copy of the catalogue):
    ``rows`` are ``(id, composition, energy per atom)`` on the catalogue's corrected scale."""

    def __init__(self, rows: list[tuple[object, dict[str, float], float]]) -> None:
        self.hull_set = "memory"
        self.as_of = None
        self._systems = {}
        self._by_chemsys: dict[str, list] = {}
        for index, (_, composition, energy) in enumerate(rows):  # the engine keys entries by integers
            self._by_chemsys.setdefault("-".join(sorted(composition)), []).append(
                (index, composition, energy)
            )

    def _rows(self, chemsys: str) -> list[tuple[object, dict[str, float], float]]:
        return [row for sub in engine.subsystems(chemsys) for row in self._by_chemsys.get(sub, [])]
