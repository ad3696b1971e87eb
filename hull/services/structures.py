"""Structures attached to entries already stored: a structure archive of the GNoME release (``gnome-structures``)
read after its CSV gave composition-only entries. Each structure becomes a new version of the entry it names (same
source and source id, so never a duplicate), with the entry's energies carried over to the structure's cell and
checked by the same rules as any row (``hull.ingest.records.check_record``: its formula must be the entry's)."""

from pymatgen.core import Composition

from hull.ingest.checks import shown
from hull.ingest.records import EntryRecord, RowProblem, StructureRecord
from hull.models import Entry
from hull.services.chemsys import chunked

FIELDS = ("source_id", "composition", "reduced_formula", "energy", "uncorrected_energy", "correction")
MORE = ("method", "method_family", "band_gap", "data")


def structures_resolve(*, rows: list, source: str) -> list[EntryRecord | RowProblem]:
    """Each ``StructureRecord`` of ``rows`` as the entry of ``source`` it names, now with its structure; one that
    names no entry, or several, is a row problem. Other rows pass unchanged."""
    wanted = [row for row in rows if isinstance(row, StructureRecord)]
    by_id = {row.key for row in wanted if row.layout == "id"}
    formulas = {_reduced(row.key) for row in wanted if row.layout != "id"} - {None}
    found: dict[str, list[dict]] = {}
    for field, keys in (("source_id", by_id), ("reduced_formula", formulas)):
        for chunk in chunked(sorted(keys)):
            for values in Entry.objects.filter(source=source, **{f"{field}__in": chunk}).values(
                *FIELDS, *MORE
            ):
                found.setdefault(f"{field}:{values[field]}", []).append(values)
    return [_resolved(row, found, source) if isinstance(row, StructureRecord) else row for row in rows]


def _resolved(row: StructureRecord, found: dict, source: str) -> EntryRecord | RowProblem:
    if row.layout == "id":
        matches = found.get(f"source_id:{row.key}", [])
    else:
        matches = found.get(f"reduced_formula:{_reduced(row.key)}", [])
        if row.layout == "composition":
            cell = Composition(row.key)
            matches = [m for m in matches if Composition(m["composition"]) == cell] or matches[:0]
    if not matches:
        return RowProblem(
            row.location, f"no entry of source {source!r} is {shown(row.key)}: ingest its CSV first"
        )
    if len(matches) > 1:
        ids = ", ".join(sorted(m["source_id"] for m in matches)[:5])
        return RowProblem(
            row.location,
            f"{len(matches)} entries of source {source!r} are {shown(row.key)} ({ids}): by_id.zip names them",
        )
    entry = matches[0]
    scale = row.structure.composition.num_atoms / sum(entry["composition"].values())
    return EntryRecord(
        location=f"{row.location} ({shown(entry['source_id'])})",
        source_id=entry["source_id"],
        composition=row.structure.composition,
        structure=row.structure,
        energy=entry["energy"] * scale,
        uncorrected_energy=entry["uncorrected_energy"] * scale,
        correction=entry["correction"] * scale,
        method=entry["method"],
        method_family=entry["method_family"],
        band_gap=entry["band_gap"],
        data=entry["data"],
        expected_formula=entry["reduced_formula"],
    )


def _reduced(formula: str) -> str | None:
    try:
        return Composition(formula).reduced_formula
    except Exception:  # a member name that is no formula: it names no entry
        return None
