"""Hull sets: named sets of method families over which a convex hull is computed.

A hull over ``dft`` uses only entries from DFT sources on the GGA/GGA+U (MP2020-compatible) scale; ``all`` adds
evaluator results (CHGNet and other machine-learned potentials, user calculations) on that scale. r2SCAN energies
(the meta-GGA of the GNoME release's ``stable_materials_r2scan.csv``, MP's r2SCAN runs) sit on another scale and
have a hull set of their own, ``r2scan``, never mixed with GGA/GGA+U. Each entry's stability is stored per hull set,
so an evaluator result never silently changes a DFT-only hull. Pure data: no Django import.
"""

from typing import Final

DFT: Final = "dft"
ML_POTENTIAL: Final = "ml"
OTHER: Final = "other"
R2SCAN: Final = "r2scan"  # DFT with the r2SCAN meta-GGA functional: its own energy scale

METHOD_FAMILIES: Final = (DFT, ML_POTENTIAL, OTHER, R2SCAN)

HULL_SETS: Final[dict[str, frozenset[str]]] = {
    "dft": frozenset({DFT}),
    "all": frozenset({DFT, ML_POTENTIAL, OTHER}),
    "r2scan": frozenset({R2SCAN}),
}
GGA_HULL_SETS: Final = ("dft", "all")
"""The hull sets on the GGA/GGA+U (MP2020-compatible) scale, which the discovery loop's models predict."""
DEFAULT_HULL_SET: Final = "dft"


def hull_sets_containing(method_family: str) -> list[str]:
    """Names of the hull sets an entry of ``method_family`` belongs to."""
    return [name for name, families in HULL_SETS.items() if method_family in families]
