"""Pure convex-hull engine: formation energies, energies above hull, decompositions, stability.

No Django and no pymatgen import: numpy, scipy's qhull and numba-compiled inner loops
(``hull.engine.kernels``) only, so the engine can be used from services, notebooks,
workers and benchmarks alike.

Method
------
For each chemical system the lower convex hull of the points (atom fractions of all
elements but the first, formation energy per atom) is computed with Quickhull (Barber,
Dobkin & Huhdanpaa, ACM TOMS 22, 469 (1996)). Formation energies are taken against the
elemental references: the lowest-energy unary entry of each element among the given
entries (ties: smallest key). Systems are computed once each, bottom-up: a system's hull
is built from its own candidates plus the stable points of its subsystems (face property
of convex hulls), so subsystem entries are never fed to qhull again. Energy above hull and
decomposition come from locating every entry in its facet (max over facet planes, then
barycentric coordinates from the facet's inverse vertex matrix), vectorised per system.

The decomposition energy is that of Merchant et al., Nature 624, 80 (2023) (GNoME): for an
entry whose composition is a stable vertex of a multi-element system, the energy relative
to the hull rebuilt without every entry of that composition (<= 0 for the stable entry, as
pymatgen's ``get_decomp_and_phase_separation_energy``); otherwise the energy above hull.

Conventions shared with pymatgen's ``PhaseDiagram``: per reduced composition only the
lowest-energy entry can be stable (ties: smallest key here); a compound must lie more
than ``FORMATION_TOL`` below the references to be stable; polymorphs and equal-energy
duplicates of a stable entry decompose to it with amount 1.0.

Tolerances
----------
- ``FORMATION_TOL = 1e-11`` eV/atom: formation energy below which a compound enters the hull.
- ``COMPOSITION_DECIMALS = 9``: atom fractions rounded to 1e-9 to decide "same composition".
- ``DEGENERATE_DET = 1e-14``: facets with a smaller ``|det [x, 1]|`` are vertical and dropped.
- ``BARY_TOL = 1e-9``: barycentric coordinates >= -1e-9 count as inside a facet.
- ``AMOUNT_TOL = 1e-8``: decomposition amounts at or below it are dropped (not renormalised).
- ``ON_HULL_TOL = 1e-9`` eV/atom: within this of the hull an entry counts as on it.
- ``REUSE_MARGIN = 1e-9`` eV/atom: an incremental update reuses a system's stored facets
  (no qhull call) only if every point clears every facet it is not a vertex of by this.
- Energies above hull are clipped at 0.0 (round-off of order 1e-15 otherwise).
Agreement with pymatgen is tested to 1e-6 eV/atom (observed: ~1e-13 on the MP data).

Public API
----------
``compute_hulls(entries, *, systems=None, workers=1) -> HullResult``;
``update_hulls(state, entries_by_key, new_entries) -> HullResult`` (equal to a full build);
``systems_to_update(current, existing_thermo, new_entries, all_chemsys, *, entries_by_key)
-> set[str]`` (the plan needs the present entries to place new ones against the hulls);
``chemsys_of``, ``subsystems(chemsys, *, proper=False)``, ``is_subsystem(a, b)``.

Incremental updates (``update_hulls``) recompute a system only when its own entries, an
elemental reference it uses, or the stable set of one of its subsystems changed; each
system's result is a deterministic function of exactly those inputs, so the result equals
a full ``compute_hulls`` bit for bit. A state keeps what each system was computed from
(``HullResult.inputs``: parsed entries, stable points, hull points), so an update parses
only the new entries, and it inserts the points that joined into each system's known hull
(beneath-beyond) instead of calling qhull, wherever the result provably is the hull.
"""

from hull.engine.build import compute_hulls
from hull.engine.geometry import BARY_TOL, DEGENERATE_DET
from hull.engine.incremental import systems_to_update, update_hulls
from hull.engine.system import AMOUNT_TOL, COMPOSITION_DECIMALS, FORMATION_TOL, ON_HULL_TOL, REUSE_MARGIN
from hull.engine.types import (
    EntryThermo,
    HullResult,
    PhaseEntry,
    SystemHull,
    chemsys_of,
    is_subsystem,
    subsystems,
)

__all__ = [
    "AMOUNT_TOL",
    "BARY_TOL",
    "COMPOSITION_DECIMALS",
    "DEGENERATE_DET",
    "FORMATION_TOL",
    "ON_HULL_TOL",
    "REUSE_MARGIN",
    "EntryThermo",
    "HullResult",
    "PhaseEntry",
    "SystemHull",
    "chemsys_of",
    "compute_hulls",
    "is_subsystem",
    "subsystems",
    "systems_to_update",
    "update_hulls",
]
