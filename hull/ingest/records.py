"""What a reader yields: one ``EntryRecord`` per good row, one ``RowProblem`` per bad one."""

import math
from dataclasses import dataclass, field
from typing import Any

from pymatgen.core import Composition, Element, Structure

from hull.ingest.checks import (
    DEFAULT_LIMITS,
    Limits,
    amount_problems,
    is_number,
    json_problems,
    parsed_structure_problems,
    shown,
    text_problem,
)
from hull.plausibility import energy_problem


class FileProblem(Exception):
    """The whole file cannot be read (unreadable, truncated, missing column): the batch fails."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    """A row that is not stored: where it is (file and row) and what is wrong with it. Control characters of
    either are escaped, so that a report can always be printed and stored."""

    location: str  # "file.json.gz item 12 (mp-123)"
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "location", shown(self.location, 300))
        object.__setattr__(self, "message", shown(self.message, 1000))

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
    symmetry: dict[str, Any] | None = (
        None  # the space group the source gives, kept where there is no structure
    )


@dataclass
class StructureRecord:
    """A structure to attach to an entry already stored (``gnome-structures``): ``key`` names the entry the way
    ``layout`` says (``id``: its source id; ``composition`` or ``reduced_formula``: its formula)."""

    location: str
    key: str
    layout: str
    structure: Structure


def check_record(record: EntryRecord, *, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Problems that keep ``record`` out of the catalogue, each naming the offending value.

    The cheap rules run first and the structure is checked before a distance matrix is computed on it, so that
    an entry that breaks a limit or holds a non-finite number is refused before anything expensive or fragile
    runs (see ``hull.ingest.checks``).
    """
    problems = [
        problem
        for name, max_length in limits.text_lengths.items()
        if (problem := text_problem(name.replace("_", " "), getattr(record, name), max_length))
    ]
    for name in ("energy", "uncorrected_energy", "correction"):
        value = getattr(record, name)
        if not is_number(value) or not math.isfinite(value):
            problems.append(f"{name.replace('_', ' ')} is {shown(value)}: it must be a finite number")
    if record.band_gap is not None and (
        not is_number(record.band_gap) or not math.isfinite(record.band_gap) or record.band_gap < 0
    ):
        problems.append(f"band gap is {shown(record.band_gap)}: it must be a finite number, 0 or more")
    problems += json_problems(record.data, "data", limits.max_json_depth)
    structure = record.structure
    if structure is not None:
        found = parsed_structure_problems(structure, limits)
        if found:
            return problems + found  # nothing below may see a structure that breaks a limit or is not finite
    composition = structure.composition if structure is not None else record.composition
    if any(not isinstance(getattr(el, "element", el), Element) for el in composition.elements):
        return [*problems, f"composition {composition} has species that are not elements"]
    amounts = {el.symbol: float(amount) for el, amount in composition.items()}
    found = amount_problems(amounts, limits)
    if found:
        return problems + found
    if structure is None and round(composition.num_atoms) < 1:
        problems.append(f"composition {composition} has less than one atom per cell")
    if is_number(record.energy) and math.isfinite(record.energy):
        problem = energy_problem(
            amounts, record.energy / composition.num_atoms, method_family=record.method_family
        )
        if problem:
            problems.append(problem)
    if structure is not None:
        problems += _structure_agreement(record, structure, limits)
    if record.expected_formula and record.expected_formula != composition.reduced_formula:
        try:
            expected = Composition(record.expected_formula).reduced_formula
        except Exception as exc:  # pymatgen raises several types for unreadable formulas
            problems.append(
                f"formula {shown(record.expected_formula)} cannot be read: {shown(str(exc), 200)}"
            )
        else:
            if expected != composition.reduced_formula:
                problems.append(
                    f"the row says {shown(record.expected_formula)} but the structure is {composition.reduced_formula}"
                )
    if (
        record.expected_nsites is not None
        and structure is not None
        and record.expected_nsites != len(structure)
    ):
        problems.append(f"the row says {record.expected_nsites} sites but the structure has {len(structure)}")
    return problems


def _structure_agreement(record: EntryRecord, structure: Structure, limits: Limits) -> list[str]:
    """A finite structure within the limits: ordered, agreeing with the entry's composition, with no overlapping
    sites."""
    problems = []
    if not structure.is_ordered:
        problems.append("structure is disordered (partial occupancies); only ordered structures are stored")
    if structure.composition.reduced_formula != record.composition.reduced_formula:
        problems.append(
            f"structure composition {structure.composition.reduced_formula} disagrees with the entry's "
            f"composition {record.composition.reduced_formula}"
        )
    if len(structure) > 1:
        shortest = _shortest_distance(structure)
        if shortest < limits.min_site_distance:
            problems.append(
                f"overlapping sites: two sites are {shortest:.3f} Å apart (minimum {limits.min_site_distance} Å)"
            )
    return problems


def _shortest_distance(structure: Structure) -> float:
    matrix = structure.distance_matrix
    n = len(structure)
    matrix[range(n), range(n)] = float("inf")
    return float(matrix.min())
