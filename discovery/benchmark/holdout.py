"""The benchmark's hold-out: the composition-hash test split of the paper (Merchant et al., Nature 624, 80
(2023), Methods: MD5 of the reduced formula, the same rule as ``ml_backend.data.hash_split``) among compositions
of ``MIN_ELEMENTS`` or more elements. Every entry of a hidden composition is hidden, so no polymorph of a hidden
phase stays visible to generation, filtering or training.

No Django import: :func:`holdout_split` works on plain rows (``discovery.benchmark.catalogue`` reads them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ml_backend.data import composition_hash_bucket

TRAIN_BELOW = 85  # hash buckets 0-84 train, 85-99 test: ``ml_backend.data.hash_split``'s default
MIN_ELEMENTS = 3


@dataclass(frozen=True)
class CatalogueRow:
    """One DFT entry of the catalogue: energies per atom on the corrected scale, formation energy and
    stability on the full DFT hull (the ground truth), structure as a pymatgen dict."""

    public_id: str
    reduced_formula: str
    composition: dict[str, float]
    energy_per_atom: float
    structure: dict | None
    nsites: int
    formation_energy: float | None = None
    stable: bool = False

    @property
    def nelements(self) -> int:
        return len(self.composition)


def is_hidden_formula(reduced_formula: str, nelements: int) -> bool:
    """In the test split of the composition hash, with ``MIN_ELEMENTS`` or more elements."""
    return nelements >= MIN_ELEMENTS and composition_hash_bucket(reduced_formula) >= TRAIN_BELOW


@dataclass
class HoldOut:
    visible: list[CatalogueRow]
    hidden: list[CatalogueRow]
    hidden_stable: list[str] = field(default_factory=list)

    @property
    def hidden_formulas(self) -> set[str]:
        return {row.reduced_formula for row in self.hidden}

    def summary(self) -> dict:
        return {
            "rule": f"md5(reduced formula) % 100 >= {TRAIN_BELOW}, {MIN_ELEMENTS}+ elements, every polymorph",
            "visible_entries": len(self.visible),
            "hidden_entries": len(self.hidden),
            "hidden_compositions": len(self.hidden_formulas),
            "hidden_stable": len(self.hidden_stable),
        }


def holdout_split(rows: Iterable[CatalogueRow]) -> HoldOut:
    """Visible and hidden rows, and the ids of the hidden ones stable on the full DFT hull."""
    visible, hidden = [], []
    for row in rows:
        (hidden if is_hidden_formula(row.reduced_formula, row.nelements) else visible).append(row)
    return HoldOut(visible, hidden, sorted(row.public_id for row in hidden if row.stable))
