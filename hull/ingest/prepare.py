"""Turn a checked ``EntryRecord`` into the field values of a catalogue row. Pure: no Django import."""

import base64
import hashlib
import json
import warnings
from dataclasses import dataclass
from typing import Any

from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hull.formulas import anonymous_formula, chemsys_from_elements
from hull.ingest.checks import Limits
from hull.ingest.records import EntryRecord, RowProblem, check_record


@dataclass(frozen=True)
class PreparedEntry:
    source_id: str
    chemsys: str
    fields: dict[str, Any]  # Entry model field values, without source, batch and public_id
    content_hash: str


def public_id_for(prefix: str, source: str, source_id: str) -> str:
    """A stable public id derived from (source, source id): the same entry gets the same id in any database."""
    digest = hashlib.sha256(f"{source}\0{source_id}".encode()).digest()
    return f"{prefix}-{base64.b32encode(digest).decode().lower()[:12]}"


def symmetry_of(structure, symprec: float) -> dict[str, Any]:
    """Space group (spglib through pymatgen) at ``symprec``; empty fields where spglib finds none."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
            return {
                "spacegroup_symbol": analyzer.get_space_group_symbol(),
                "spacegroup_number": analyzer.get_space_group_number(),
                "crystal_system": analyzer.get_crystal_system(),
                "symprec": symprec,
            }
        except Exception:  # spglib gives up on some badly distorted cells
            return {
                "spacegroup_symbol": "",
                "spacegroup_number": None,
                "crystal_system": "",
                "symprec": symprec,
            }


def prepare(record: EntryRecord, *, symprec: float) -> PreparedEntry:
    comp = record.structure.composition if record.structure is not None else record.composition
    elements = [el.symbol for el in comp.elements]
    nsites = len(record.structure) if record.structure is not None else round(comp.num_atoms)
    natoms = comp.num_atoms
    structure_dict = record.structure.as_dict() if record.structure is not None else None
    fields: dict[str, Any] = {
        "method": record.method,
        "method_family": record.method_family,
        "formula": comp.formula,
        "reduced_formula": comp.reduced_formula,
        "anonymous_formula": anonymous_formula(comp),
        "nelements": len(elements),
        "nsites": nsites,
        "composition": {el.symbol: float(amount) for el, amount in comp.items()},
        "structure": structure_dict,
        "volume": record.structure.volume if record.structure is not None else None,
        "density": float(record.structure.density) if record.structure is not None else None,
        "energy": record.energy,
        "uncorrected_energy": record.uncorrected_energy,
        "correction": record.correction,
        "energy_per_atom": record.energy / natoms,
        "band_gap": record.band_gap,
        "data": record.data,
    }
    if record.structure is not None:
        fields.update(symmetry_of(record.structure, symprec))
    else:  # the source's own space group where it gives one (no tolerance: not computed here)
        fields.update({"spacegroup_symbol": "", "spacegroup_number": None, "crystal_system": ""})
        fields.update(record.symmetry or {})
        fields["symprec"] = None
    return PreparedEntry(
        source_id=record.source_id,
        chemsys=chemsys_from_elements(elements),
        fields=fields,
        content_hash=content_hash(fields),
    )


def content_hash(fields: dict[str, Any]) -> str:
    """The hash by which a re-ingested row is found unchanged: of its structure, composition, energies, method,
    band gap and data (``fields`` as ``prepare`` makes them)."""
    payload = json.dumps(
        [
            fields["structure"],
            fields["composition"],
            fields["energy"],
            fields["uncorrected_energy"],
            fields["method"],
            fields["band_gap"],
            fields["data"],
        ],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def check_and_prepare(
    row: EntryRecord | RowProblem, *, limits: Limits, symprec: float
) -> PreparedEntry | RowProblem:
    """One row of a batch, checked and, when good, prepared; every problem becomes a ``RowProblem`` naming the
    row. The checks run before ``prepare`` so that spglib only ever sees finite structures within the limits."""
    if isinstance(row, RowProblem):
        return row
    try:
        problems = check_record(row, limits=limits)
        if problems:
            return RowProblem(row.location, "; ".join(problems))
        return prepare(row, symprec=symprec)
    except Exception as exc:  # a value no rule foresaw must still be a row error, never a crash of the batch
        return RowProblem(row.location, f"cannot check this row: {type(exc).__name__}: {exc}")
