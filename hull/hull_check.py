"""What ``manage.py check_hull`` checks: every stored entry re-parses to its own stored fields and has a plausible
energy, every element's lowest-energy elemental entry in each hull set is a plausible reference, and the stored
stability equals a fresh computation from scratch.

Recomputing alone cannot see poison: an entry stored with a wrong composition or energy (a NaN amount that pymatgen
dropped made an O1 entry at -10 eV/atom the oxygen reference) moves every hull built on it, and a rebuild from the
same rows agrees with it. So each entry's derived fields are checked against the fields they are derived from at
ingest (``hull.ingest.prepare``), and energies and references against the fixed rule of ``hull.plausibility``.
"""

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db.models import TextField
from django.db.models.functions import Cast
from pymatgen.core import Composition, Element

from hull import engine
from hull.formulas import chemsys_from_elements
from hull.gc_pause import gc_paused
from hull.hull_sets import HULL_SETS
from hull.ingest.checks import Limits, amount_problems, shown
from hull.models import Entry, HullRecord, Stability
from hull.plausibility import energy_problem, reference_problem
from hull.services.ingest import ingest_limits

# Stored and recomputed energies must agree to this (eV/atom); both come from the same deterministic engine,
# so any larger gap means a stale or corrupted row.
ENERGY_TOL = 1e-9

# The scope of a difference in an entry's own stored fields (the others name a hull set).
ENTRY = "entry"

# An entry's stored fields are derived from one another at ingest by float arithmetic (energy / number of atoms,
# corrected - raw); they must agree to this relative precision, far below any physical change.
FIELD_REL_TOL = 1e-9
# Amounts (atoms per cell) counted from a structure's sites and the stored composition agree to this.
AMOUNT_TOL = 1e-8

ELEMENT_SYMBOLS = frozenset(element.symbol for element in Element)
_FORMULA_PART = re.compile(r"([A-Z][a-z]?)(\d*(?:\.\d+)?)")
_FORMULA_TEXT = re.compile(r"(?:[A-Z][a-z]?\d*(?:\.\d+)?)+")


@dataclass(frozen=True)
class Difference:
    hull_set: str  # or ``ENTRY`` for an entry's own stored fields
    what: str  # public id of an entry, or a chemical system
    field: str
    stored: object
    expected: object

    def __str__(self) -> str:
        return (
            f"[{self.hull_set}] {self.what} {self.field}: stored {self.stored!r}, expected {self.expected!r}"
        )


def hull_differences(*, compute: Callable[..., engine.HullResult] = engine.compute_hulls) -> list[Difference]:
    """Every stored stability or hull record that differs from a full rebuild, in every hull set."""
    rows = list(
        Entry.objects.values_list("id", "public_id", "composition", "energy_per_atom", "method_family")
    )
    public = {row[0]: row[1] for row in rows}
    differences: list[Difference] = []
    for hull_set, families in HULL_SETS.items():
        members = [row for row in rows if row[4] in families]
        result = compute([engine.PhaseEntry(row[0], row[2], row[3]) for row in members])
        stored = {s.entry_id: s for s in Stability.objects.filter(hull_set=hull_set)}
        for key, thermo in result.thermo.items():
            differences.extend(_compare_entry(hull_set, public[key], stored.pop(key, None), thermo))
        differences.extend(
            Difference(
                hull_set, public.get(key, str(key)), "stability", "stored", "no such entry in this set"
            )
            for key in stored
        )
        records = {r.chemsys_id: r for r in HullRecord.objects.filter(hull_set=hull_set)}
        for chemsys, hull in result.hulls.items():
            record = records.pop(chemsys, None)
            if record is None:
                differences.append(Difference(hull_set, chemsys, "hull record", None, "present"))
            elif sorted(record.stable_entry_ids) != list(hull.stable_keys):
                differences.append(
                    Difference(
                        hull_set,
                        chemsys,
                        "stable entries",
                        sorted(record.stable_entry_ids),
                        list(hull.stable_keys),
                    )
                )
        differences.extend(Difference(hull_set, name, "hull record", "present", None) for name in records)
    return differences


def _compare_entry(hull_set: str, public_id: str, stored: Stability | None, thermo: engine.EntryThermo):
    if stored is None:
        yield Difference(hull_set, public_id, "stability", None, "computed")
        return
    for field in ("formation_energy_per_atom", "e_above_hull", "decomposition_energy"):
        a, b = getattr(stored, field), getattr(thermo, field)
        if (a is None) != (b is None) or (
            a is not None and not math.isclose(a, b, rel_tol=0, abs_tol=ENERGY_TOL)
        ):
            yield Difference(hull_set, public_id, field, a, b)
    if stored.chemsys != thermo.chemsys:  # the copy of the entry's system that searches join on
        yield Difference(hull_set, public_id, "chemsys", stored.chemsys, thermo.chemsys)
    if stored.is_stable != thermo.is_stable:
        yield Difference(hull_set, public_id, "is_stable", stored.is_stable, thermo.is_stable)
    stored_decomposition = {part["entry"]: part["amount"] for part in stored.decomposition or []}
    expected = thermo.decomposition or {}
    if set(stored_decomposition) != set(expected) or any(
        not math.isclose(stored_decomposition[k], expected[k], abs_tol=1e-9) for k in expected
    ):
        yield Difference(hull_set, public_id, "decomposition", stored_decomposition, expected)


def catalogue_differences(
    *, compute: Callable[..., engine.HullResult] = engine.compute_hulls
) -> list[Difference]:
    """Everything ``check_hull`` reports: :func:`entry_differences`, then :func:`hull_differences`."""
    return entry_differences() + hull_differences(compute=compute)


def entry_differences(*, chunk_size: int = 2000) -> list[Difference]:
    """Every stored entry whose fields do not re-parse to one another or whose energy is implausible, and every
    element whose lowest-energy elemental entry in a hull set is an implausible reference.

    One pass over the entries in chunks, JSON read with orjson and structures read as dicts (the species of their
    sites counted, no pymatgen Structure built), so it stays linear and cheap at a million entries.
    """
    differences: list[Difference] = []
    # (method family, element) -> (lowest energy per atom of its elemental entries, that entry's public id)
    lowest: dict[tuple[str, str], tuple[float, str]] = {}
    limits = ingest_limits()
    with gc_paused():  # rows are short-lived and acyclic: no collector passes over the heap while streaming
        for row in _entry_rows(chunk_size):
            differences.extend(_row_differences(row, limits))
            composition = row["composition"]
            if isinstance(composition, dict) and len(composition) == 1:
                key = (row["method_family"], next(iter(composition)))
                if key not in lowest or row["energy_per_atom"] < lowest[key][0]:
                    lowest[key] = (row["energy_per_atom"], row["public_id"])
    for hull_set, families in HULL_SETS.items():
        references: dict[str, tuple[float, str, str]] = {}
        for (family, symbol), (energy, public_id) in lowest.items():
            if family in families and (symbol not in references or energy < references[symbol][0]):
                references[symbol] = (energy, public_id, family)
        for symbol, (energy, public_id, family) in sorted(references.items()):
            problem = reference_problem(symbol, energy, method_family=family)
            if problem:
                differences.append(Difference(hull_set, public_id, f"{symbol} reference", energy, problem))
    return differences


_ROW_FIELDS = (
    "public_id",
    "method_family",
    "formula",
    "reduced_formula",
    "chemsys_id",
    "nelements",
    "nsites",
    "energy",
    "uncorrected_energy",
    "correction",
    "energy_per_atom",
)


def _entry_rows(chunk_size: int) -> Iterator[dict[str, Any]]:
    """Every entry's checked fields, the JSON ones as their stored text (parsed by orjson, not Django's json)."""
    rows = (
        Entry.objects.order_by()
        .annotate(
            composition_text=Cast("composition", TextField()), structure_text=Cast("structure", TextField())
        )
        .values_list(*_ROW_FIELDS, "composition_text", "structure_text")
    )
    for values in rows.iterator(chunk_size=chunk_size):
        row = dict(zip(_ROW_FIELDS, values, strict=False))
        row["composition"] = _loads(values[-2])
        row["structure"] = _loads(values[-1])
        yield row


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # NaN and Infinity, which SQLite keeps in JSON text and orjson refuses
            return json.loads(text)
        except ValueError:
            return text  # reported as it is stored: neither a composition nor a structure


def _composition_problems(composition: Any, limits: Limits) -> list[str]:
    """Why a stored composition is not element symbols with amounts the ingest would accept (finite, positive,
    below its cap: the ingest's own rule, ``hull.ingest.checks.amount_problems``)."""
    problems = amount_problems(composition, limits)
    if isinstance(composition, dict):
        problems += [
            f"{shown(symbol)} is not an element" for symbol in composition if symbol not in ELEMENT_SYMBOLS
        ]
    return problems


def _row_differences(row: dict[str, Any], limits: Limits) -> Iterator[Difference]:
    """Each stored field of one entry that does not follow from the fields it is derived from at ingest
    (``hull.ingest.prepare``), and an implausible energy (``hull.plausibility.energy_problem``)."""
    public_id = row["public_id"]

    def difference(field: str, stored: object, expected: object) -> Difference:
        return Difference(ENTRY, public_id, field, stored, expected)

    composition = row["composition"]
    problems = _composition_problems(composition, limits)
    if problems:
        yield difference("composition", composition, "; ".join(problems))
        return  # nothing else can be derived from it
    natoms = sum(composition.values())
    structure = row["structure"]
    if structure is None:
        nsites = round(natoms)
    else:
        counts = _site_counts(structure)
        if counts is None:
            yield difference("structure", "unreadable", "a pymatgen Structure dict with element sites")
            nsites = None
        else:
            nsites = len(structure["sites"])
            if set(counts) != set(composition) or any(
                not math.isclose(counts[symbol], amount, rel_tol=0, abs_tol=AMOUNT_TOL)
                for symbol, amount in composition.items()
            ):
                yield difference("composition", composition, dict(counts))
    if nsites is not None and row["nsites"] != nsites:
        yield difference("nsites", row["nsites"], nsites)
    if row["nelements"] != len(composition):
        yield difference("nelements", row["nelements"], len(composition))
    chemsys = chemsys_from_elements(composition)
    if row["chemsys_id"] != chemsys:
        yield difference("chemsys", row["chemsys_id"], chemsys)
    if not _formula_matches(row["formula"], composition, reduced=False):
        yield difference("formula", row["formula"], Composition(composition).formula)
    if not _formula_matches(row["reduced_formula"], composition, reduced=True):
        yield difference("reduced_formula", row["reduced_formula"], Composition(composition).reduced_formula)
    energy, per_atom = row["energy"], row["energy_per_atom"]
    summed = row["uncorrected_energy"] + row["correction"]
    if not math.isclose(energy, summed, rel_tol=FIELD_REL_TOL, abs_tol=ENERGY_TOL):
        yield difference("energy", energy, summed)  # uncorrected_energy + correction
    if not math.isclose(per_atom, energy / natoms, rel_tol=FIELD_REL_TOL, abs_tol=ENERGY_TOL):
        yield difference("energy_per_atom", per_atom, energy / natoms)
    problem = energy_problem(composition, per_atom, method_family=row["method_family"])
    if problem:
        yield difference("plausible energy", per_atom, problem)


def _site_counts(structure: Any) -> Counter | None:
    """Atoms per element over a structure dict's sites (occupancies summed), or None where it cannot be read."""
    counts: Counter = Counter()
    try:
        for site in structure["sites"]:
            for species in site["species"]:
                counts[species["element"]] += species["occu"]
    except (KeyError, TypeError):
        return None
    if not ELEMENT_SYMBOLS.issuperset(counts):
        return None
    return counts  # a non-finite occupancy gives a non-finite count, which no composition equals


def _formula_matches(formula: str, composition: dict[str, float], *, reduced: bool) -> bool:
    """Whether a stored formula holds the composition's amounts (a reduced formula: in proportion).

    A fast path reads the formula's amounts; where they differ (pymatgen keeps some reduced formulas unreduced,
    such as O2 or Li2O2), the formula must equal pymatgen's own formula of the composition."""
    parts = _FORMULA_PART.findall(formula)
    if _FORMULA_TEXT.fullmatch(formula.replace(" ", "")) and len(parts) == len(composition):
        amounts = {symbol: float(amount or 1) for symbol, amount in parts}
        if set(amounts) == set(composition):
            first = parts[0][0]
            scale = composition[first] / amounts[first] if reduced else 1.0
            if all(math.isclose(amounts[s] * scale, a, rel_tol=AMOUNT_TOL) for s, a in composition.items()):
                return True
    comp = Composition(composition)
    return formula == (comp.reduced_formula if reduced else comp.formula)
