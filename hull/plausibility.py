"""What a plausible energy is: the one rule that ingest checks rows against and ``check_hull`` checks the stored
catalogue against. Pure: no Django import.

An energy per atom is judged by its formation energy against a fixed table of elemental references, the Materials
Project's lowest-energy phase of each element (``hull/data/elemental_reference_energies.json``, 89 elements, on the
scale of the catalogue's MP2020-corrected energies). The table is fixed on purpose: it cannot be moved by what is
ingested, so a poisoned reference in the catalogue cannot make a poisoned compound look plausible. The most negative
formation energies in the Materials Project are about -4.5 eV/atom (fluorides and oxides); the default window
(``ENERGY_WINDOW``) leaves room on both sides for other functionals and for high-energy candidates of a discovery round.
"""

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hull.hull_sets import DFT, ML_POTENTIAL, OTHER

REFERENCE_TABLE = Path(__file__).resolve().parent / "data" / "elemental_reference_energies.json"


@dataclass(frozen=True)
class EnergyWindow:
    """Bounds (eV/atom) on the formation energy against the fixed references; ``absolute`` bounds the energy per
    atom itself where an element has no reference."""

    formation_min: float = -6.0
    formation_max: float = 5.0
    absolute_min: float = -100.0
    absolute_max: float = 5.0

    def __str__(self) -> str:
        return f"formation energy between {self.formation_min:g} and {self.formation_max:g} eV/atom"


ENERGY_WINDOW = EnergyWindow()

# An element's own lowest-energy phase in the catalogue may differ from the fixed reference by another functional or
# a better polymorph, but not by this much (eV/atom); a larger gap means a poisoned or mislabelled reference.
REFERENCE_TOLERANCE = 1.0

# Method families whose energies sit on the table's scale (GGA/GGA+U with MP2020 corrections, and potentials trained
# on it). Another functional (r2SCAN) has a scale of its own, several eV/atom away: its energies are held only to the
# absolute bounds, and its elemental references are not compared with the table.
REFERENCE_SCALE_FAMILIES = frozenset({DFT, ML_POTENTIAL, OTHER})


@cache
def reference_energies() -> dict[str, float]:
    """Energy per atom (eV) of each element's reference phase."""
    return dict(json.loads(REFERENCE_TABLE.read_text())["energy_per_atom"])


def reference_energy(composition: Mapping[str, float]) -> float | None:
    """The composition-weighted reference energy per atom, or None when an element has no reference."""
    table = reference_energies()
    total = sum(composition.values())
    if total <= 0 or any(symbol not in table for symbol in composition):
        return None
    return sum(table[symbol] * amount for symbol, amount in composition.items()) / total


def energy_problem(
    composition: Mapping[str, float],
    energy_per_atom: float,
    window: EnergyWindow = ENERGY_WINDOW,
    *,
    method_family: str = DFT,
) -> str | None:
    """Why ``energy_per_atom`` of ``composition`` (symbol -> amount), computed by a method of ``method_family``, is
    implausible, or None when it is not."""
    if not math.isfinite(energy_per_atom):
        return f"energy per atom is {energy_per_atom!r}: it must be a finite number"
    reference = reference_energy(composition) if method_family in REFERENCE_SCALE_FAMILIES else None
    if reference is None:
        if not window.absolute_min <= energy_per_atom <= window.absolute_max:
            return (
                f"energy per atom {energy_per_atom:.6g} eV is outside {window.absolute_min:g} to "
                f"{window.absolute_max:g} eV/atom"
            )
        return None
    formation = energy_per_atom - reference
    # an element has no formation energy: a phase of it far below its reference phase is a poisoned reference
    lowest = -REFERENCE_TOLERANCE if len(composition) == 1 else window.formation_min
    if not lowest <= formation <= window.formation_max:
        return (
            f"energy per atom {energy_per_atom:.6g} eV is {formation:+.6g} eV/atom from the elemental references "
            f"({reference:.4f} eV/atom): a plausible energy has a {window}"
            + (
                f", and an element's is at most {REFERENCE_TOLERANCE:g} eV/atom below its reference"
                if lowest != window.formation_min
                else ""
            )
        )
    return None


def reference_problem(
    symbol: str, energy_per_atom: float, tolerance: float = REFERENCE_TOLERANCE, *, method_family: str = DFT
) -> str | None:
    """Why an element's lowest stored energy per atom (from a method of ``method_family``) is implausible as its
    reference, or None."""
    expected = reference_energies().get(symbol)
    if expected is None or method_family not in REFERENCE_SCALE_FAMILIES:
        return None
    if not math.isfinite(energy_per_atom) or abs(energy_per_atom - expected) > tolerance:
        return (
            f"lowest energy of {symbol} is {energy_per_atom!r} eV/atom; its reference phase is {expected:.4f} "
            f"eV/atom (allowed gap {tolerance:g})"
        )
    return None
