"""Structure features for the family screens, computed in the background for each new structure.

- Dimensionality after Cheon et al., Nano Lett. 17, 1915 (2017) (the labels of pymatgen's
  ``get_dimensionality_cheon`` with the 0.45 Å bonding tolerance used for the GNoME release's
  ``Dimensionality Cheon`` column), and after Larsen et al., Phys. Rev. Materials 3, 034003 (2019) as a
  second opinion (``get_dimensionality_larsen`` on ``CrystalNN`` bonds), both computed by our own code over
  one neighbour list per structure (``hull.dimensionality``, ``hull.crystal_nn``): the same labels and
  bonds as pymatgen's, Cheon's about 50 times and Larsen's with its CrystalNN bonds about 14 times faster
  (median CPU time per structure, ``bench/features_bench.py``, docs/performance.md). Cheon's method
  answers "intercalated ion"/"intercalated molecule" for structures with isolated ions or molecules; those
  have no integer dimensionality and are stored as null (the label goes into ``error``). The structures of a chunk are done in forked processes
  (``PORTAL_HULL_WORKERS`` of them, or ``workers``).
- Structure prototype: entries of one anonymous formula and space group are compared with pymatgen's
  ``StructureMatcher`` on anonymised structures (``fit_anonymous``); each group of matching structures gets
  a key ``<anonymous formula>_<space group>_<n>``, the first entry of the group being its representative.
"""

import warnings
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from hull.crystal_nn import crystal_nn_bonds
from hull.dimensionality import CHEON_TOLERANCE, cheon_label, larsen_dimensionality
from hull.models import Entry, EntryFeatures
from hull.services.catalogue_state import catalogue_state_bump
from hull.services.chemsys import chunked
from hull.services.parallel import forked_map, workers_for

PARALLEL_MIN_STRUCTURES = 8
"""Fewer structures stay in the calling process (a fork costs more than a few structures' features)."""


@dataclass
class FeaturesReport:
    computed: int = 0
    failed: list[int] = field(default_factory=list)
    new_prototypes: int = 0

    def as_dict(self) -> dict:
        return {"computed": self.computed, "failed": self.failed, "new_prototypes": self.new_prototypes}


def dimensionality_of(structure: Structure) -> tuple[int | None, int | None, str]:
    """(Cheon, Larsen, note): integer dimensionalities 0-3 or None, and a note for what has none."""
    notes = []
    cheon = larsen = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            label = cheon_label(structure, tolerance=CHEON_TOLERANCE)
            if isinstance(label, str) and label.endswith("D"):
                cheon = int(label[:-1])
            else:
                notes.append(f"cheon: {label or 'undetermined'}")
        except Exception as exc:  # pymatgen raises bare arithmetic errors on some cells
            notes.append(f"cheon failed: {exc!r}")
        try:
            larsen = larsen_dimensionality(len(structure), *crystal_nn_bonds(structure))
        except Exception as exc:
            notes.append(f"larsen failed: {exc!r}")
    return cheon, larsen, "; ".join(notes)


def features_compute(
    *,
    entry_ids: Iterable[int],
    dimensionality: bool = True,
    prototypes: bool = True,
    workers: int | None = None,
) -> FeaturesReport:
    """Compute (or recompute) the features of the given entries; entries without a structure are skipped.
    Dimensionalities of a chunk are computed in ``workers`` forked processes (default: as
    ``PORTAL_HULL_WORKERS`` allows, see ``workers_for``)."""
    report = FeaturesReport()
    ids = sorted(set(entry_ids))
    for chunk in chunked(ids):
        entries = list(
            Entry.objects.filter(pk__in=chunk, structure__isnull=False).only(
                "id", "structure", "anonymous_formula", "spacegroup_number"
            )
        )
        structures = {entry.pk: Structure.from_dict(entry.structure) for entry in entries}
        keys = _prototype_keys(entries, structures, report) if prototypes else {}
        dimensions = {}
        if dimensionality:
            ordered = [structures[entry.pk] for entry in entries]
            processes = workers_for(len(ordered), PARALLEL_MIN_STRUCTURES) if workers is None else workers
            results = forked_map(dimensionality_of, ordered, processes)
            dimensions = {entry.pk: result for entry, result in zip(entries, results, strict=True)}
        computed = {}
        for entry in entries:
            values: dict = {}
            if prototypes:
                values["prototype_key"] = keys.get(entry.pk, "")
            if dimensionality:
                cheon, larsen, note = dimensions[entry.pk]
                values.update(dimensionality_cheon=cheon, dimensionality_larsen=larsen, error=note)
                if note and cheon is None and "failed" in note:
                    report.failed.append(entry.pk)
            computed[entry.pk] = values
        with transaction.atomic():  # a chunk's features and the state change that serves them together
            for pk, values in computed.items():
                EntryFeatures.objects.update_or_create(entry_id=pk, defaults=values)
            if computed:
                catalogue_state_bump(name="features")
        report.computed += len(computed)
    return report


def _prototype_keys(
    entries: list[Entry], structures: dict[int, Structure], report: FeaturesReport
) -> dict[int, str]:
    """Prototype key of each entry: the key of a matching representative in its (anonymous formula, space
    group) group, or a new key."""
    matcher = StructureMatcher(primitive_cell=True, scale=True, attempt_supercell=False)
    groups: dict[tuple[str, int | None], list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.anonymous_formula, entry.spacegroup_number)].append(entry)
    keys: dict[int, str] = {}
    for (anonymous, number), members in groups.items():
        prefix = f"{anonymous[:48]}_{number or 0}_"
        representatives = _representatives(prefix, exclude={e.pk for e in members})
        for entry in sorted(members, key=lambda e: e.pk):
            structure = _anonymised(structures[entry.pk])
            key = next(
                (k for k, rep in representatives.items() if _matches(matcher, structure, rep)),
                None,
            )
            if key is None:
                key = f"{prefix}{_next_index(prefix, representatives)}"
                representatives[key] = structure
                report.new_prototypes += 1
            keys[entry.pk] = key
    return keys


def _representatives(prefix: str, *, exclude: set[int]) -> dict[str, tuple[Structure, bool]]:
    """The first stored entry of each prototype key starting with ``prefix``."""
    first: dict[str, int] = {}
    for key, pk in (
        EntryFeatures.objects.filter(prototype_key__startswith=prefix)
        .exclude(entry_id__in=exclude)
        .order_by("entry_id")
        .values_list("prototype_key", "entry_id")
    ):
        first.setdefault(key, pk)
    structures = dict(Entry.objects.filter(pk__in=first.values()).values_list("pk", "structure"))
    return {
        key: _anonymised(Structure.from_dict(structures[pk]))
        for key, pk in first.items()
        if structures.get(pk)
    }


def _next_index(prefix: str, representatives: dict) -> int:
    used = [int(k[len(prefix) :]) for k in representatives if k[len(prefix) :].isdigit()]
    return max(used, default=0) + 1


PLACEHOLDERS = ("H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne", "Na", "Mg", "Al", "Si", "P", "S")


def _anonymised(structure: Structure) -> tuple[Structure, bool]:
    """The reduced (primitive, Niggli) structure with its elements replaced by placeholders in order of
    decreasing amount, and whether that order is unique (no two elements with the same amount).

    Reducing once here, and fitting with ``skip_structure_reduction``, avoids StructureMatcher's cache of
    reduced structures, whose lookups compare whole structures and dominate the time on large groups."""
    reduced = structure.get_primitive_structure().get_reduced_structure()
    amounts = reduced.composition.get_el_amt_dict()
    order = sorted(amounts, key=lambda el: (-amounts[el], el))
    unique = len(set(amounts.values())) == len(amounts) and len(order) <= len(PLACEHOLDERS)
    if not unique:
        return reduced, False
    return reduced.replace_species({el: PLACEHOLDERS[i] for i, el in enumerate(order)}), True


def _matches(matcher: StructureMatcher, a: tuple[Structure, bool], b: tuple[Structure, bool]) -> bool:
    """Whether two structures share a prototype: a plain fit of the anonymised structures when the element
    order by amount is unique, else ``fit_anonymous`` over every assignment of the elements."""
    (sa, unique_a), (sb, unique_b) = a, b
    if len(sa) != len(sb) or len(sa.composition.elements) != len(sb.composition.elements):
        return False  # primitive cells of one prototype hold the same number of sites
    try:
        if unique_a and unique_b:
            return bool(matcher.fit(sa, sb, skip_structure_reduction=True))
        return bool(matcher.fit_anonymous(sa, sb, skip_structure_reduction=True))
    except Exception:  # a degenerate cell cannot be reduced: treat as no match
        return False


def features_missing(*, batch_id: int | None = None) -> list[int]:
    """Ids of entries with a structure and no features yet (optionally of one ingest batch)."""
    queryset = Entry.objects.filter(structure__isnull=False, features__isnull=True)
    if batch_id is not None:
        queryset = queryset.filter(batch_id=batch_id)
    return list(queryset.order_by("id").values_list("id", flat=True))
