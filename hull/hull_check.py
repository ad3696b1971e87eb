"""Compare the stored stability with a fresh computation from scratch (``manage.py check_hull``)."""

import math
from collections.abc import Callable
from dataclasses import dataclass

from hull import engine
from hull.hull_sets import HULL_SETS
from hull.models import Entry, HullRecord, Stability

# Stored and recomputed energies must agree to this (eV/atom); both come from the same deterministic engine,
# so any larger gap means a stale or corrupted row.
ENERGY_TOL = 1e-9


@dataclass(frozen=True)
class Difference:
    hull_set: str
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
