"""Readers of entry dicts in JSON: ``cse-json`` (pymatgen ``ComputedStructureEntry``/``ComputedEntry`` dicts) and
``wbm-json`` (the WBM sample: ``material_id``, ``structure``, ``energy`` and ``corrected_energy`` in eV/cell)."""

import math
from collections.abc import Iterator
from pathlib import Path

from pymatgen.core import Composition, Structure
from pymatgen.entries.computed_entries import ComputedEntry, ComputedStructureEntry

from hull.hull_sets import DFT, ML_POTENTIAL, OTHER, R2SCAN
from hull.ingest.checks import (
    DEFAULT_LIMITS,
    Limits,
    amount_problems,
    composition_mismatch,
    is_number,
    raw_structure_problems,
    shown,
)
from hull.ingest.parsing import MP2020_METHOD, Row, describe, guarded, jsonable, load_json
from hull.ingest.records import EntryRecord, FileProblem, RowProblem

DFT_RUN_TYPES = {"GGA", "GGA+U", "PBE", "PBE+U", "PBESOL", "HSE", "LDA"}
R2SCAN_RUN_TYPES = {
    "R2SCAN",
    "R2SCAN+U",
    "SCAN",
    "SCAN+U",
}  # meta-GGA: their own hull set, never mixed with GGA


def read_cse_json(path: Path, *, method: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Iterator[Row]:
    """pymatgen computed entries; energies are taken as given (corrections already applied)."""
    items = load_json(path)
    if (
        isinstance(items, dict)
        and "@class" not in items
        and items
        and all(isinstance(v, dict) and "@class" in v for v in items.values())
    ):
        items = list(items.values())  # a mapping such as element -> reference entry
    elif isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise FileProblem(
            str(path), "expected a list of ComputedEntry dicts, a mapping of them, or one such dict"
        )
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        yield guarded(where, lambda where=where, item=item: _cse_row(where, item, method, limits))


def _cse_row(where: str, item: object, method: str | None, limits: Limits) -> Row:
    """One pymatgen entry dict: its raw values are checked before pymatgen parses them (pymatgen drops a NaN
    amount silently), and what pymatgen parsed is compared with the raw composition."""
    if not isinstance(item, dict):
        return RowProblem(where, "not a JSON object")
    entry_id = item.get("entry_id")
    if entry_id is None or entry_id == "":
        return RowProblem(where, "no entry_id: every entry needs an id")
    if not isinstance(entry_id, str | int) or isinstance(entry_id, bool):
        return RowProblem(where, f"entry_id {shown(entry_id)} must be text")
    where += f" ({shown(str(entry_id))})"
    problems = _raw_number_problems(item, required=("energy",), optional=("correction",))
    raw_composition = item.get("composition")
    if raw_composition is not None or item.get("structure") is None:
        problems += amount_problems(raw_composition, limits)
    if item.get("structure") is not None:
        problems += raw_structure_problems(item["structure"], limits)
    if problems:
        return RowProblem(where, "; ".join(problems))
    try:
        entry = _computed_entry_from_dict(item)
    except Exception as exc:  # pymatgen raises many types for bad dicts
        return RowProblem(where, f"cannot read entry: {describe(exc)}")
    if raw_composition is not None:
        mismatch = composition_mismatch(
            _element_amounts(Composition(raw_composition)), _element_amounts(entry.composition)
        )
        if mismatch is None and len(Composition(raw_composition)) != len(raw_composition):
            mismatch = f"the file's composition {shown(raw_composition, 80)} was read as {entry.composition}"
        if mismatch:
            return RowProblem(where, mismatch)
    parameters = entry.parameters if isinstance(entry.parameters, dict) else {}
    structure = entry.structure if isinstance(entry, ComputedStructureEntry) else None
    return EntryRecord(
        location=where,
        source_id=str(entry_id),
        composition=entry.composition,
        structure=structure,
        energy=float(entry.energy),
        uncorrected_energy=float(entry.uncorrected_energy),
        correction=float(entry.correction),
        method=method or _method_of(entry),
        method_family=_family_of(parameters),
        data=jsonable(
            {
                "run_type": parameters.get("run_type"),
                "energy_adjustments": [adj.name for adj in entry.energy_adjustments],
                "potcar_symbols": parameters.get("potcar_symbols"),
                "hubbards": parameters.get("hubbards"),
            }
        ),
    )


def read_wbm_json(path: Path, *, method: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Iterator[Row]:
    """The WBM sample: raw and MP2020-corrected energies per cell."""
    items = load_json(path)
    if not isinstance(items, list):
        raise FileProblem(str(path), "expected a list of WBM dicts")
    for i, item in enumerate(items):
        where = f"{path.name} item {i}"
        yield guarded(where, lambda where=where, item=item: _wbm_row(where, item, method, limits))


def _wbm_row(where: str, item: object, method: str | None, limits: Limits) -> Row:
    if not isinstance(item, dict):
        return RowProblem(where, "not a JSON object")
    material_id = item.get("material_id")
    if not material_id:
        return RowProblem(where, "no material_id")
    if not isinstance(material_id, str | int) or isinstance(material_id, bool):
        return RowProblem(where, f"material_id {shown(material_id)} must be text")
    where += f" ({shown(str(material_id))})"
    missing = [key for key in ("structure", "energy", "corrected_energy") if item.get(key) is None]
    if missing:
        return RowProblem(where, f"missing {', '.join(missing)}")
    problems = _raw_number_problems(item, required=("energy", "corrected_energy"), optional=())
    problems += raw_structure_problems(item["structure"], limits)
    if item.get("formula") is not None and not isinstance(item["formula"], str):
        problems.append(f"formula {shown(item['formula'])} must be text")
    if problems:
        return RowProblem(where, "; ".join(problems))
    try:
        structure = Structure.from_dict(item["structure"])
    except Exception as exc:
        return RowProblem(where, f"cannot read structure: {describe(exc)}")
    energy, raw = float(item["corrected_energy"]), float(item["energy"])
    return EntryRecord(
        location=where,
        source_id=str(material_id),
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=raw,
        correction=energy - raw,
        method=method or MP2020_METHOD,
        method_family=DFT,
        expected_formula=item.get("formula"),
    )


def _computed_entry_from_dict(item: dict) -> ComputedEntry:
    if item.get("structure") is not None or item.get("@class") == "ComputedStructureEntry":
        return ComputedStructureEntry.from_dict(item)
    return ComputedEntry.from_dict(item)


def _method_of(entry: ComputedEntry) -> str:
    run_type = str((entry.parameters or {}).get("run_type") or "").upper()
    mp2020 = any("MP2020" in adj.name for adj in entry.energy_adjustments)
    if run_type in {"GGA", "GGA+U"}:
        return MP2020_METHOD if mp2020 or entry.correction == 0 else "GGA/GGA+U"
    if run_type:
        return run_type.replace("R2SCAN", "r2SCAN")
    return MP2020_METHOD if mp2020 else "unspecified"


def _family_of(parameters: dict) -> str:
    run_type = str(parameters.get("run_type") or "").upper()
    if run_type in R2SCAN_RUN_TYPES:
        return R2SCAN
    if run_type in DFT_RUN_TYPES or parameters.get("potcar_symbols"):
        return DFT
    if run_type in {"CHGNET", "M3GNET", "MACE", "SEVENNET", "MLIP"}:
        return ML_POTENTIAL
    return DFT if not parameters else OTHER


def _raw_number_problems(item: dict, *, required: tuple[str, ...], optional: tuple[str, ...]) -> list[str]:
    """Keys of a raw JSON row that must hold finite numbers (JSON numbers, not text)."""
    problems = []
    for key in (*required, *optional):
        if key not in item and key in optional:
            continue
        value = item.get(key)
        if not is_number(value) or not math.isfinite(value):
            problems.append(f"{key} is {shown(value)}: it must be a finite number")
    return problems


def _element_amounts(composition: Composition) -> dict[str, float]:
    amounts: dict[str, float] = {}
    for specie, amount in composition.items():
        symbol = getattr(specie, "symbol", str(specie))
        amounts[symbol] = amounts.get(symbol, 0.0) + float(amount)
    return amounts
