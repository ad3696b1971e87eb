"""Hull sets: named sets of method families over which a convex hull is computed.

A hull over ``dft`` uses only entries from DFT sources; ``all`` adds evaluator results (CHGNet and other
machine-learned potentials, user calculations). Each entry's stability is stored per hull set, so an
evaluator result never silently changes a DFT-only hull. Pure data: no Django import.
"""

from typing import Final

DFT: Final = "dft"
ML_POTENTIAL: Final = "ml"
OTHER: Final = "other"

METHOD_FAMILIES: Final = (DFT, ML_POTENTIAL, OTHER)

HULL_SETS: Final[dict[str, frozenset[str]]] = {
    "dft": frozenset({DFT}),
    "all": frozenset({DFT, ML_POTENTIAL, OTHER}),
}
DEFAULT_HULL_SET: Final = "dft"


def hull_sets_containing(method_family: str) -> list[str]:
    """Names of the hull sets an entry of ``method_family`` belongs to."""
    return [name for name, families in HULL_SETS.items() if method_family in families]
