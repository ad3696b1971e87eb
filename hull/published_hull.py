"""The GNoME release's published hull columns (kept in ``Entry.data["published_hull"]`` at ingest) against the
catalogue's own hull: where the two disagree, so that a user who rebuilt the release's hull here can see that it
was rebuilt right, or which entries are missing from it. A read (selector): nothing is written."""

import math
from dataclasses import dataclass, field

from hull.errors import CatalogueError
from hull.gnome_release import PUBLISHED_HULL_COLUMNS, column_key
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import Entry, Stability

DEFAULT_TOLERANCE = 1e-3
"""eV/atom: published and computed values closer than this agree (the release prints energies to about 1e-6)."""


@dataclass(frozen=True)
class Disagreement:
    public_id: str
    source_id: str
    formula: str
    published: float
    ours: float | None  # None: the catalogue has no value (an element without a reference in this hull set)

    @property
    def gap(self) -> float:
        return math.inf if self.ours is None else abs(self.ours - self.published)

    def __str__(self) -> str:
        ours = "none" if self.ours is None else f"{self.ours:.6f}"
        return (
            f"{self.public_id} {self.source_id} {self.formula}: published {self.published:.6f}, ours {ours}"
        )


@dataclass
class HullComparison:
    column: str
    quantity: str  # the field of ``Stability`` compared
    hull_set: str
    tolerance: float
    published: int = 0  # entries that carry the column
    compared: int = 0  # of which the hull set holds a stability row
    disagreements: list[Disagreement] = field(default_factory=list)

    def __str__(self) -> str:
        return (
            f"{self.column} against {self.quantity} in hull set {self.hull_set}: {self.compared} of {self.published} "
            f"entries compared, {len(self.disagreements)} disagree by more than {self.tolerance:g} eV/atom"
        )


def published_hull_compare(
    *, column: str, hull_set: str = DEFAULT_HULL_SET, tolerance: float = DEFAULT_TOLERANCE
) -> HullComparison:
    """Compare the published ``column`` (its CSV header, e.g. "Decomposition Energy Per Atom All", or its key) with
    the comparable quantity of the hull set; the disagreements come worst first."""
    key = column_key(column)
    if key not in PUBLISHED_HULL_COLUMNS:
        raise CatalogueError(
            f"unknown published column {column!r}: choose one of {', '.join(sorted(PUBLISHED_HULL_COLUMNS))}"
        )
    if hull_set not in HULL_SETS:
        raise CatalogueError(f"unknown hull set {hull_set!r}: choose one of {', '.join(HULL_SETS)}")
    if not (math.isfinite(tolerance) and tolerance >= 0):
        raise CatalogueError(f"tolerance {tolerance!r} must be a finite number, 0 or more")
    quantity = PUBLISHED_HULL_COLUMNS[key]
    comparison = HullComparison(column=key, quantity=quantity, hull_set=hull_set, tolerance=tolerance)
    fields = ("formation_energy_per_atom", "decomposition_energy", "e_above_hull", "is_stable")
    comparison.published = Entry.objects.filter(data__published_hull__has_key=key).count()
    rows = (
        Stability.objects.filter(hull_set=hull_set, entry__data__published_hull__has_key=key)
        .order_by("entry_id")
        .values_list(
            "entry__public_id",
            "entry__source_id",
            "entry__reduced_formula",
            f"entry__data__published_hull__{key}",
            *fields,
        )
    )
    for public_id, source_id, formula, published, *values in rows.iterator(chunk_size=5000):
        comparison.compared += 1
        ours = _ours(quantity, dict(zip(fields, values, strict=True)))
        if ours is None or abs(ours - float(published)) > tolerance:
            comparison.disagreements.append(
                Disagreement(public_id, source_id, formula, float(published), ours)
            )
    comparison.disagreements.sort(key=lambda d: (-d.gap, d.public_id))
    return comparison


def _ours(quantity: str, stability: dict) -> float | None:
    """Our value comparable with a published column. The release's decomposition energy is the distance to the hull
    of every other phase: for a stable entry our ``decomposition_energy`` (the hull rebuilt without its
    composition), for any other its energy above the hull (which still holds its stable polymorph; our
    ``decomposition_energy`` of a polymorph leaves every entry of its composition out)."""
    if quantity == "decomposition_energy" and not stability["is_stable"]:
        return stability["e_above_hull"]
    return stability[quantity]
