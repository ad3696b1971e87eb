"""Phase-diagram data of one chemical system in one hull set, now or as the catalogue stood at a moment.

Read-only: the hull is computed with the engine over the system's entries (every subsystem included), so any
system works, also one with no entries of its own, and a past state (``as_of``) is the same computation over
the entries that existed then.
"""

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from pymatgen.core import Composition

from hull import engine
from hull.engine.geometry import build_lower_hull
from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import Entry
from hull.provenance import stability_source
from hull.search import MAX_ELEMENTS
from hull.selectors import check_hull_set
from hull.services.ingest import ingest_limits
from hull.stability_input import checked_composition, checked_energy_per_atom


@dataclass
class DiagramEntry:
    key: int
    public_id: str
    reduced_formula: str
    fractions: dict[str, float]  # atom fractions over the system's elements
    energy_per_atom: float
    formation_energy_per_atom: float | None
    e_above_hull: float | None
    decomposition_energy: float | None
    is_stable: bool | None
    decomposition: list[dict]  # [{"entry", "public_id", "formula", "amount"}]
    source: str
    method: str
    created_at: datetime
    method_family: str = "dft"

    @property
    def stability_source(self) -> str:
        """ "DFT" or "predicted by <evaluator>" (:mod:`hull.provenance`)."""
        return stability_source(method=self.method, method_family=self.method_family)


@dataclass
class PhaseDiagramData:
    chemsys: str
    elements: list[str]
    hull_set: str
    entries: list[DiagramEntry]
    stable_keys: list[int]
    facets: list[list[int]]  # lower-hull simplices of the whole system, as entry keys
    missing_elements: list[str] = field(default_factory=list)
    as_of: datetime | None = None

    @property
    def stable(self) -> list[DiagramEntry]:
        return [e for e in self.entries if e.is_stable]


def parse_system(text: str) -> list[str]:
    """Elements of a chemical system typed by a user, with clear errors (no wildcards here)."""
    from hull.formulas import parse_chemsys

    chemsys = parse_chemsys(text)
    elements = chemsys.split("-")
    if len(elements) > MAX_ELEMENTS:
        raise CatalogueError(
            f"chemical system {text!r} has {len(elements)} elements; at most {MAX_ELEMENTS} are supported"
        )
    return elements


def phase_diagram_get(
    *, chemsys: str, hull_set: str = DEFAULT_HULL_SET, as_of: datetime | None = None
) -> PhaseDiagramData:
    """Entries of ``chemsys`` and its subsystems with their stability, the stable set and the hull facets."""
    check_hull_set(hull_set)
    elements = parse_system(chemsys)
    name = "-".join(elements)
    queryset = Entry.objects.filter(
        chemsys_id__in=engine.subsystems(name), method_family__in=sorted(HULL_SETS[hull_set])
    ).order_by("id")
    if as_of is not None:
        queryset = queryset.filter(created_at__lte=as_of)
    rows = list(
        queryset.values_list(
            "id",
            "public_id",
            "reduced_formula",
            "composition",
            "energy_per_atom",
            "source",
            "method",
            "created_at",
            "method_family",
        )
    )
    if not rows:
        raise CatalogueError(f"no entries in the chemical system {name} (hull set {hull_set})")
    result = engine.compute_hulls([engine.PhaseEntry(r[0], r[3], r[4]) for r in rows])
    labels = {r[0]: (r[1], r[2]) for r in rows}
    entries = []
    for key, public_id, formula, composition, energy, source, method, created, family in rows:
        thermo = result.thermo[key]
        total = sum(composition.values())
        entries.append(
            DiagramEntry(
                key=key,
                public_id=public_id,
                reduced_formula=formula,
                fractions={el: composition.get(el, 0.0) / total for el in elements},
                energy_per_atom=energy,
                formation_energy_per_atom=thermo.formation_energy_per_atom,
                e_above_hull=thermo.e_above_hull,
                decomposition_energy=thermo.decomposition_energy,
                is_stable=thermo.is_stable,
                decomposition=[
                    {"entry": k, "public_id": labels[k][0], "formula": labels[k][1], "amount": amount}
                    for k, amount in sorted(
                        (thermo.decomposition or {}).items(), key=lambda kv: (-kv[1], kv[0])
                    )
                ],
                source=source,
                method=method,
                created_at=created,
                method_family=family,
            )
        )
    missing = missing_references(elements, [r[3] for r in rows])
    stable = [e for e in entries if e.is_stable]
    return PhaseDiagramData(
        chemsys=name,
        elements=elements,
        hull_set=hull_set,
        entries=entries,
        stable_keys=[e.key for e in stable],
        facets=[] if missing else hull_facets(elements, stable),
        missing_elements=missing,
        as_of=as_of,
    )


def hull_facets(elements: list[str], stable: list[DiagramEntry]) -> list[list[int]]:
    """Lower-hull simplices of the stable points over the whole system (one call to the engine's qhull)."""
    if len(elements) == 1 or len(stable) < len(elements):
        return [[e.key] for e in stable] if len(elements) == 1 else []
    coords = np.array([[e.fractions[el] for el in elements[1:]] for e in stable])
    energies = np.array([e.formation_energy_per_atom for e in stable])
    hull = build_lower_hull(coords, energies)
    keys = [e.key for e in stable]
    return sorted(sorted(keys[i] for i in facet) for facet in hull.vertices.tolist())


def hypothetical_stability(
    *, composition: dict[str, float], energy_per_atom: float, hull_set: str = DEFAULT_HULL_SET
) -> dict:
    """Where a hypothetical entry would sit against the hull set's entries as they stand, without writing anything:
    pymatgen's answer for ``PhaseDiagram(catalogue + [entry])`` (energy above hull, decomposition, stability) and for
    ``PhaseDiagram(catalogue)`` (formation energy, ``get_decomp_and_phase_separation_energy``): the meaning of each
    field is stated once, in the help texts of ``portal.api.serializers.StabilityCheckOutputSerializer``.

    The engine computes it over the catalogue's entries plus the entry, keyed after every catalogue entry: an energy
    equal to a stable entry of the same composition leaves that entry stable, as pymatgen's ``PhaseDiagram`` with
    the new entry added last. An element is measured against the catalogue's own reference of that element (the
    engine would make a lower entry the reference, at 0 eV/atom)."""
    check_hull_set(hull_set)
    composition = checked_composition(composition, ingest_limits())
    energy_per_atom = checked_energy_per_atom(energy_per_atom)
    elements = parse_system("-".join(sorted(composition)))
    rows = list(
        Entry.objects.filter(
            chemsys_id__in=engine.subsystems("-".join(elements)),
            method_family__in=sorted(HULL_SETS[hull_set]),
        ).values_list("id", "public_id", "reduced_formula", "composition", "energy_per_atom")
    )
    answer = {
        "chemsys": "-".join(elements),
        "hull_set": hull_set,
        "reduced_formula": Composition(composition).reduced_formula,
        "energy_per_atom": energy_per_atom,
        "formation_energy_per_atom": None,
        "e_above_hull": None,
        "decomposition_energy": None,
        "is_stable": None,
        "missing_elements": missing_references(elements, [r[3] for r in rows]),
        "decomposition": [],
    }
    if answer["missing_elements"]:  # no reference to measure against: no numbers, as for a catalogue entry
        return answer
    probe = max(r[0] for r in rows) + 1
    entries = [engine.PhaseEntry(r[0], r[3], r[4]) for r in rows]
    entries.append(engine.PhaseEntry(probe, composition, energy_per_atom))
    thermo = engine.compute_hulls(entries).thermo[probe]
    labels = {r[0]: (r[1], r[2]) for r in rows}
    answer.update(
        formation_energy_per_atom=thermo.formation_energy_per_atom,
        e_above_hull=thermo.e_above_hull,
        decomposition_energy=thermo.decomposition_energy,
        is_stable=thermo.is_stable,
        decomposition=[
            {"entry": k, "public_id": labels[k][0], "formula": labels[k][1], "amount": a}
            for k, a in sorted((thermo.decomposition or {}).items(), key=lambda kv: (-kv[1], kv[0]))
            if k != probe
        ],
    )
    if len(elements) == 1:
        reference = min(r[4] for r in rows)
        answer["formation_energy_per_atom"] = answer["decomposition_energy"] = energy_per_atom - reference
    return answer


def missing_references(elements: list[str], compositions: list[dict[str, float]]) -> list[str]:
    """The elements with no elemental entry among ``compositions``: a hull needs one per element."""
    present = {next(iter(c)) for c in compositions if len(c) == 1}
    return [el for el in elements if el not in present]
