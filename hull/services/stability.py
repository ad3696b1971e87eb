"""The hull service: keeps every entry's stability current, per hull set, after the catalogue changes."""

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from hull import engine
from hull.hull_sets import HULL_SETS
from hull.models import ChemicalSystem, Entry, HullRecord, HullSetState, Stability
from hull.services.bulk import bulk_upsert, copy_rows_postgres, in_keys_postgres
from hull.services.chemsys import IN_CHUNK, chunked, supersystems_among
from hull.services.parallel import workers_for

ComputeHulls = Callable[..., engine.HullResult]  # called as compute(entries, systems=..., workers=...)


@dataclass
class HullUpdateSummary:
    systems: dict[str, int] = field(default_factory=dict)  # hull set -> systems recomputed
    entries: dict[str, int] = field(default_factory=dict)  # hull set -> stability rows written
    seconds: float = 0.0

    def __str__(self) -> str:
        parts = ", ".join(
            f"{name}: {self.systems[name]} systems, {self.entries[name]} entries" for name in self.systems
        )
        return f"hull update in {self.seconds:.2f} s ({parts})"


Progress = Callable[[int, int, str], None]


def hull_update(
    *,
    touched: Iterable[str] | None = None,
    added: Iterable[int] = (),
    compute: ComputeHulls = engine.compute_hulls,
    progress: Progress | None = None,
) -> HullUpdateSummary:
    """Bring the stability of the catalogue up to date after entries were added or changed.

    ``touched``: chemical systems whose entries changed or went away; every system containing one of them is
    recomputed. ``added``: ids of new entries; only the systems they can change are recomputed (the engine's
    plan: an entry above the current hull of its own system changes that system alone, one on or below it
    changes every system containing its system, a new elemental reference every system with that element).
    With neither, the whole catalogue is rebuilt. Runs in one transaction holding the hull-set rows locked, so
    two updates never interleave; the plan is made after the lock is taken.
    """
    started = time.perf_counter()
    summary = HullUpdateSummary()
    added = list(added)
    with transaction.atomic():
        versions = _lock_hull_sets()
        all_systems = list(ChemicalSystem.objects.values_list("name", flat=True))
        full = touched is None and not added
        base = (
            set(all_systems) if full else supersystems_among(touched=set(touched or ()), systems=all_systems)
        )
        added_rows = _added_rows(added) if added else []
        affected_by_set = {}
        for hull_set, families in HULL_SETS.items():
            affected_by_set[hull_set] = base | (
                _plan_for_added(hull_set, families, added_rows, all_systems) if added_rows else set()
            )
        union = set().union(*affected_by_set.values())
        rows = _load_rows(union, all_systems) if union else []
        previous: list[tuple[frozenset[int], frozenset[str], engine.HullResult, str]] = []
        for step, (hull_set, families) in enumerate(HULL_SETS.items()):
            if progress is not None:
                progress(step, len(HULL_SETS), f"hull set {hull_set}")
            affected = affected_by_set[hull_set]
            if not affected:
                summary.entries[hull_set] = summary.systems[hull_set] = 0
                continue
            needed = {sub for name in affected for sub in engine.subsystems(name)}
            members = [row for row in rows if row[3] in families and row[4] in needed]
            if not members:  # e.g. the r2scan set of a catalogue without r2SCAN entries: no hull to compute
                summary.entries[hull_set] = summary.systems[hull_set] = 0
                if len(affected) == len(all_systems):
                    HullRecord.objects.filter(hull_set=hull_set).delete()
                else:
                    _delete_stale_hulls(hull_set, affected)
                continue
            keys, systems = frozenset(row[0] for row in members), frozenset(affected)
            same_as = next((item for item in previous if item[0] == keys and item[1] == systems), None)
            if same_as is None:
                phase_entries = [engine.PhaseEntry(row[0], row[1], row[2]) for row in members]
                result = compute(phase_entries, systems=affected, workers=_workers_for(len(members)))
                previous.append((keys, systems, result, hull_set))
                labels = {row[0]: (row[5], row[6]) for row in members}
                summary.entries[hull_set] = _write_stability(hull_set, result, labels, versions[hull_set])
            else:
                # the same entries in the same systems: the other set's rows are this set's rows too
                result = same_as[2]
                if connection.vendor == "postgresql":
                    summary.entries[hull_set] = _copy_stability(
                        same_as[3], hull_set, result, versions[hull_set]
                    )
                else:
                    labels = {row[0]: (row[5], row[6]) for row in members}
                    summary.entries[hull_set] = _write_stability(hull_set, result, labels, versions[hull_set])
            if same_as is not None and connection.vendor == "postgresql":
                summary.systems[hull_set] = _copy_hulls(
                    same_as[3], hull_set, result, versions[hull_set], affected
                )
            else:
                summary.systems[hull_set] = _write_hulls(hull_set, result, versions[hull_set], affected)
        if progress is not None:
            progress(len(HULL_SETS), len(HULL_SETS), "done")
    summary.seconds = time.perf_counter() - started
    return summary


PARALLEL_MIN_ENTRIES = 20_000
"""Hull updates over fewer entries stay in the calling process (forking costs more than it saves)."""


def _workers_for(n_entries: int) -> int:
    """Processes for a hull computation over ``n_entries`` entries."""
    return workers_for(n_entries, PARALLEL_MIN_ENTRIES)


def _added_rows(added: list[int]) -> list[tuple]:
    """(pk, composition, energy per atom, chemsys, method family) of the added entries.

    Queried by runs of consecutive ids (a bulk insert's ids mostly are), so a batch of 100,000 new entries
    costs a few queries rather than one bound parameter per id.
    """
    rows: list[tuple] = []
    fields = ("id", "composition", "energy_per_atom", "chemsys_id", "method_family")
    for chunk in chunked(id_runs(added), size=IN_CHUNK // 2):
        condition = Q()
        for first, last in chunk:
            condition |= Q(pk=first) if first == last else Q(pk__range=(first, last))
        rows.extend(Entry.objects.filter(condition).values_list(*fields))
    return rows


def id_runs(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted distinct ids as maximal runs of consecutive integers, ``(first, last)`` each."""
    runs: list[tuple[int, int]] = []
    for pk in sorted(set(ids)):
        if runs and pk == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], pk)
        else:
            runs.append((pk, pk))
    return runs


def _plan_for_added(
    hull_set: str, families: frozenset[str], added_rows: list[tuple], all_systems: list[str]
) -> set[str]:
    """The systems that the added entries of this hull set can change, from the stored hulls."""
    new_rows = [row[:4] for row in added_rows if row[4] in families]
    if not new_rows:
        return set()
    own_systems = {row[3] for row in new_rows}
    with_hull: set[str] = set()
    for chunk in chunked(sorted(own_systems)):
        with_hull.update(
            HullRecord.objects.filter(hull_set=hull_set, chemsys_id__in=chunk).values_list(
                "chemsys_id", flat=True
            )
        )
    # Entries of systems with no stored hull yet cannot be placed against one: every system containing
    # theirs is recomputed. The others go through the engine's plan.
    plan = supersystems_among(touched=own_systems - with_hull, systems=all_systems)
    new_rows = [row for row in new_rows if row[3] in with_hull]
    if not new_rows:
        return plan
    new_entries = [engine.PhaseEntry(pk, comp, energy) for pk, comp, energy, _ in new_rows]
    own_systems = {row[3] for row in new_rows}
    unaries = {name for name in all_systems if "-" not in name}
    records = {}
    for chunk in chunked(sorted(own_systems | unaries)):
        for record in HullRecord.objects.filter(hull_set=hull_set, chemsys_id__in=chunk):
            records[record.chemsys_id] = engine.SystemHull(
                chemsys=record.chemsys_id,
                elements=tuple(record.chemsys_id.split("-")),
                stable_keys=tuple(record.stable_entry_ids),
                facets=tuple(tuple(facet) for facet in record.facets),
                missing_elements=tuple(record.missing_elements),
            )
    new_keys = {row[0] for row in new_rows}
    wanted = sorted(
        {k for hull in records.values() for facet in hull.facets for k in facet}
        | {k for hull in records.values() for k in hull.stable_keys if "-" not in hull.chemsys}
    )
    known = {}
    for chunk in chunked([k for k in wanted if k not in new_keys]):
        for pk, comp, energy in Entry.objects.filter(pk__in=chunk).values_list(
            "id", "composition", "energy_per_atom"
        ):
            known[pk] = engine.PhaseEntry(pk, comp, energy)
    return plan | engine.systems_to_update(records, {}, new_entries, all_systems, entries_by_key=known)


def _lock_hull_sets() -> dict[str, int]:
    """Lock the hull-set rows and bump their versions. The rows come from a data migration; a database
    flushed since (transactional tests) gets them back here, race-free."""
    HullSetState.objects.bulk_create(
        [HullSetState(hull_set=name) for name in HULL_SETS], ignore_conflicts=True
    )
    versions = {}
    for state in (
        HullSetState.objects.select_for_update().filter(hull_set__in=list(HULL_SETS)).order_by("hull_set")
    ):
        state.version += 1
        state.save(update_fields=["version", "updated_at"])
        versions[state.hull_set] = state.version
    return versions


def _load_rows(affected: set[str], all_systems: list[str]) -> list[tuple]:
    """(pk, composition, energy per atom, method family, chemsys, public id, reduced formula) of every entry
    that competes in an affected system."""
    existing = set(all_systems)
    needed = sorted({sub for name in affected for sub in engine.subsystems(name)} & existing)
    fields = (
        "id",
        "composition",
        "energy_per_atom",
        "method_family",
        "chemsys_id",
        "public_id",
        "reduced_formula",
    )
    queryset = Entry.objects.order_by("id").values_list(*fields)
    if len(needed) == len(existing):
        return list(queryset)
    rows: list[tuple] = []
    for chunk in chunked(needed):
        rows.extend(queryset.filter(chemsys_id__in=chunk))
    rows.sort(key=lambda row: row[0])
    return rows


STABILITY_FIELDS = (
    "entry",
    "hull_set",
    "chemsys",
    "formation_energy_per_atom",
    "e_above_hull",
    "decomposition_energy",
    "decomposition",
    "is_stable",
    "missing_elements",
    "hull_version",
    "updated_at",
)


def _write_stability(hull_set: str, result: engine.HullResult, labels: dict, version: int) -> int:
    now = timezone.now()
    rows = []
    for key, thermo in result.thermo.items():
        decomposition = None
        if thermo.decomposition is not None:
            decomposition = [
                {"entry": k, "public_id": labels[k][0], "formula": labels[k][1], "amount": amount}
                for k, amount in sorted(thermo.decomposition.items(), key=lambda kv: (-kv[1], kv[0]))
            ]
        rows.append(
            (
                key,
                hull_set,
                thermo.chemsys,
                thermo.formation_energy_per_atom,
                thermo.e_above_hull,
                thermo.decomposition_energy,
                decomposition,
                thermo.is_stable,
                list(thermo.missing_elements),
                version,
                now,
            )
        )
    if connection.vendor == "postgresql":
        # replace rather than upsert: the rows stream by COPY straight into the table
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {connection.ops.quote_name(Stability._meta.db_table)} "
                f"WHERE hull_set = %s AND {in_keys_postgres(Stability, 'entry')}",
                [hull_set, list(result.thermo)],
            )
        return bulk_upsert(model=Stability, fields=STABILITY_FIELDS, rows=rows)
    return bulk_upsert(
        model=Stability,
        fields=STABILITY_FIELDS,
        rows=rows,
        unique_fields=("entry", "hull_set"),
        update_fields=STABILITY_FIELDS[2:],
    )


def _copy_stability(from_set: str, hull_set: str, result: engine.HullResult, version: int) -> int:
    """PostgreSQL: write ``hull_set``'s rows as copies of ``from_set``'s rows for the same result (written just
    before), without sending them again."""
    stamps = {"hull_version": version, "updated_at": timezone.now()}
    copied = _copy_set_rows(
        Stability, STABILITY_FIELDS, "entry", list(result.thermo), from_set, hull_set, stamps
    )
    if copied != len(result.thermo):
        raise RuntimeError(
            f"hull set {hull_set}: copied {copied} stability rows, expected {len(result.thermo)}"
        )
    return copied


def _copy_set_rows(
    model, fields, key_field: str, keys: list, from_set: str, hull_set: str, stamps: dict
) -> int:
    """Upsert copies of ``from_set``'s rows with these keys as ``hull_set``'s rows, with new ``stamps``."""
    return copy_rows_postgres(
        model=model,
        fields=fields,
        where={"hull_set": from_set},
        keys_field=key_field,
        keys=keys,
        values={"hull_set": hull_set, **stamps},
        unique_fields=(key_field, "hull_set"),
        update_fields=[f for f in fields if f not in (key_field, "hull_set")],
    )


HULL_FIELDS = (
    "hull_set",
    "chemsys",
    "stable_entry_ids",
    "facets",
    "missing_elements",
    "n_entries",
    "version",
    "computed_at",
)


def _copy_hulls(
    from_set: str, hull_set: str, result: engine.HullResult, version: int, affected: set[str]
) -> int:
    """PostgreSQL: ``hull_set``'s hull records as copies of ``from_set``'s for the same result."""
    stamps = {"version": version, "computed_at": timezone.now()}
    _copy_set_rows(HullRecord, HULL_FIELDS, "chemsys", sorted(result.hulls), from_set, hull_set, stamps)
    _delete_stale_hulls(hull_set, affected - set(result.hulls))
    return len(result.hulls)


def _delete_stale_hulls(hull_set: str, stale: set[str]) -> None:
    for chunk in chunked(sorted(stale)):
        HullRecord.objects.filter(hull_set=hull_set, chemsys_id__in=chunk).delete()


def _write_hulls(hull_set: str, result: engine.HullResult, version: int, affected: set[str]) -> int:
    counts = Counter(thermo.chemsys for thermo in result.thermo.values())
    now = timezone.now()
    rows = [
        (
            hull_set,
            hull.chemsys,
            list(hull.stable_keys),
            [list(facet) for facet in hull.facets],
            list(hull.missing_elements),
            counts[hull.chemsys],
            version,
            now,
        )
        for hull in result.hulls.values()
    ]
    bulk_upsert(
        model=HullRecord,
        fields=HULL_FIELDS,
        rows=rows,
        unique_fields=("hull_set", "chemsys"),
        update_fields=HULL_FIELDS[2:],
    )
    _delete_stale_hulls(hull_set, affected - set(result.hulls))
    return len(rows)
