"""What a reader yields: one ``EntryRecord`` per good row, one ``RowProblem`` per bad one."""

import math
from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Composition, Element, Structure


class FileProblem(Exception):
    """The whole file cannot be read (unreadable, truncated, missing column): the batch fails."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    location: str  # "file.json.gz item 12 (mp-123)"
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class EntryRecord:
    """One computed entry as read from a file, before it is checked and stored.

    ``energy`` is the total energy per cell on the corrected scale; ``uncorrected_energy + correction`` equals
    it. ``expected_formula`` is what the source row says the composition is, checked against the structure.
    """

    location: str
    source_id: str
    composition: Composition
    structure: Structure | None
    energy: float
    uncorrected_energy: float
    correction: float
    method: str
    method_family: str
    band_gap: float | None = None
    data: dict[str, Any] = field(default_factory=dict)
    expected_formula: str | None = None
    expected_nsites: int | None = None


def check_record(record: EntryRecord, *, min_site_distance: float) -> list[str]:
    """Problems that keep ``record`` out of the catalogue, each naming the offending value."""
    problems = []
    for name in ("energy", "uncorrected_energy", "correction"):
        value = getattr(record, name)
        if not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{name} is {value!r}: it must be a finite number")
    if record.band_gap is not None and not math.isfinite(record.band_gap):
        problems.append(f"band gap is {record.band_gap!r}: it must be a finite number")
    if record.composition.num_atoms <= 0:
        problems.append("composition has no atoms")
    if any(not isinstance(getattr(el, "element", el), Element) for el in record.composition.elements):
        problems.append(f"composition {record.composition} has species that are not elements")
    structure = record.structure
    if structure is not None:
        if not structure.is_ordered:
            problems.append(
                "structure is disordered (partial occupancies); only ordered structures are stored"
            )
        if structure.composition.reduced_formula != record.composition.reduced_formula:
            problems.append(
                f"structure composition {structure.composition.reduced_formula} disagrees with the entry's "
                f"composition {record.composition.reduced_formula}"
            )
        if structure.volume <= 1e-6:
            problems.append(f"cell volume is {structure.volume:g} Å^3")
        elif len(structure) > 1:
            shortest = _shortest_distance(structure)
            if shortest < min_site_distance:
                problems.append(
                    f"overlapping sites: two sites are {shortest:.3f} Å apart (minimum {min_site_distance} Å)"
                )
    if record.expected_formula:
        try:
            expected = Composition(record.expected_formula).reduced_formula
        except ValueError as exc:
            problems.append(f"formula {record.expected_formula!r} cannot be read: {exc}")
        else:
            actual = (structure.composition if structure is not None else record.composition).reduced_formula
            if expected != actual:
                problems.append(f"the row says {record.expected_formula} but the structure is {actual}")
    if (
        record.expected_nsites is not None
        and structure is not None
        and record.expected_nsites != len(structure)
    ):
        problems.append(f"the row says {record.expected_nsites} sites but the structure has {len(structure)}")
    return problems


def _shortest_distance(structure: Structure) -> float:
    matrix = structure.distance_matrix
    n = len(structure)
    matrix[range(n), range(n)] = float("inf")
    return float(matrix.min())
