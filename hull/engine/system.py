"""Hull and thermo of one chemical system, from its own entries and its subsystems' stable points.

By the face property of convex hulls, the lower hull of a system restricted to the
composition face of a subsystem is the subsystem's own lower hull. So a system's hull is
the lower hull of (a) its own candidate points and (b) the stable points already found
for its proper subsystems; entries of subsystems that are not stable there can never be
stable here. Every system is therefore computed once, bottom-up, and its result depends
only on its own entries, the stable points of its subsystems and the elemental
references — which is what makes incremental updates reproduce a full build exactly.

Candidates follow pymatgen's ``PhaseDiagram`` conventions: per reduced composition only
the lowest-energy entry (ties: smallest key) enters the hull, and only if its formation
energy is below ``-FORMATION_TOL``; the elemental references are the corners.

Decomposition energy (Merchant et al., "Scaling deep learning for materials discovery",
Nature 624, 80 (2023); Bartel et al., npj Comput. Mater. 6, 97 (2020)): for an entry
whose reduced composition is a stable vertex of a multi-element system, the energy
relative to the hull built without any entry of that composition (<= 0 for the stable
entry itself); for elements and all other entries, the energy above the hull.
"""

from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import QhullError

from hull.engine.geometry import (
    BARY_TOL,
    DEGENERATE_DET,
    MAX_SUBSETS,
    LowerHull,
    build_lower_hull,
    hull_energies,
    hull_from_simplices,
    is_lower_hull,
    locate,
)
from hull.engine.kernels import algebra, construction, inputs, thermo
from hull.engine.kernels.construction import HullPoints
from hull.engine.kernels.inputs import PAD, BelowPoints, SystemPoints, SystemRows
from hull.engine.kernels.rows import RowTable, row_table
from hull.engine.types import EntryThermo, SystemHull

FORMATION_TOL = 1e-11
"""Entries must lie this far below the elemental references to enter the hull (as pymatgen)."""
AMOUNT_TOL = 1e-8
"""Decomposition amounts at or below this are dropped (as pymatgen's ``numerical_tol``)."""
COMPOSITION_DECIMALS = 9
"""Atom fractions are rounded to this many decimals to decide that two entries are polymorphs."""
ON_HULL_TOL = 1e-9
"""An entry within this energy (eV/atom) of the hull is treated as lying on it."""
REUSE_MARGIN = 1e-9
"""Incremental updates reuse a system's facets only if all points clear them by this (eV/atom)."""


@dataclass(frozen=True, slots=True)
class SystemEntries:
    """The entries whose chemical system is exactly this one, sorted by key."""

    elements: tuple[str, ...]
    keys: np.ndarray  # (m,) int64
    fractions: np.ndarray  # (m, n) atom fractions in ``elements`` order
    energies: np.ndarray  # (m,) eV/atom
    group: np.ndarray  # (m,) int64: rows of equal reduced composition share a group
    n_groups: int

    def rows(self) -> SystemRows:
        """The arrays as the kernels take them."""
        return SystemRows(self.fractions, self.energies, self.keys, self.group, self.n_groups)


@dataclass(frozen=True, slots=True)
class StablePoints:
    """Stable entries whose own chemical system is this one (reused by every superset).

    ``block`` holds, per point, its formation energy, its fractions zero-padded to ``PAD``
    columns (or the system's width when wider) and the codes of its elements (``element_code``,
    -1 in padding), so a superset gathers the points of all its subsystems with one
    concatenation and places them in its own columns in the compiled ``system_points``.
    """

    elements: tuple[str, ...]
    keys: np.ndarray
    fractions: np.ndarray
    formation: np.ndarray
    block: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = element_codes(self.elements, max(PAD, len(self.elements)))
        block = inputs.stable_block(self.fractions, self.formation, codes)
        object.__setattr__(self, "block", block)


@functools.lru_cache(maxsize=1 << 16)
def element_codes(elements: tuple[str, ...], width: int) -> np.ndarray:
    """The codes of ``elements`` (``element_code``), padded with -1 to ``width``; read-only, shared."""
    codes = np.full(width, -1.0)
    codes[: len(elements)] = [element_code(el) for el in elements]
    codes.flags.writeable = False
    return codes


@functools.cache
def element_code(symbol: str) -> float:
    """A number that identifies an element symbol in every process (exact in a float64).

    Symbols of up to six bytes (all element symbols) are their bytes read as an integer;
    longer names, which only synthetic tests use, a CRC-32 above that range.
    """
    raw = symbol.encode()
    if len(raw) <= 6:
        return float(int.from_bytes(raw, "little"))
    return float(2**48 + zlib.crc32(raw))


@dataclass(frozen=True, slots=True)
class KnownHull:
    """A system's hull in an earlier state: facets as keys, and the points it was built from if known."""

    facets: tuple[tuple[int, ...], ...]
    points: HullPoints | None = None


@dataclass(frozen=True, slots=True)
class SystemOutcome:
    """A computed system. ``thermo`` holds every own entry, or in an update given the
    earlier ``RowTable`` only the entries whose thermo changed."""

    hull: SystemHull
    thermo: dict[int, EntryThermo]
    own_stable: StablePoints
    points: HullPoints | None = None
    table: RowTable | None = None


def formation_energies(fractions: np.ndarray, energies: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """E_f = E - sum_i x_i E_i(ref), summed column by column so every row is bit-reproducible."""
    return inputs.formation_energies(fractions, energies, refs)


def composition_groups(fractions: np.ndarray) -> tuple[np.ndarray, int]:
    """Group rows by reduced composition: (group index of each row, number of groups).

    Rows whose atom fractions agree after rounding to ``COMPOSITION_DECIMALS`` share a
    group; groups are numbered in order of first appearance (``inputs.composition_groups``).
    """
    labels, count = inputs.composition_groups(
        np.ascontiguousarray(fractions, dtype=np.float64), COMPOSITION_DECIMALS
    )
    return labels, int(count)


def group_minima(group: np.ndarray, n_groups: int, energies: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Row index of the lowest-energy entry of each group (ties: smallest key)."""
    order = np.lexsort((keys, energies, group))
    first_of_group = np.ones(len(order), dtype=bool)
    first_of_group[1:] = group[order][1:] != group[order][:-1]
    minima = np.empty(n_groups, dtype=np.int64)
    minima[group[order][first_of_group]] = order[first_of_group]
    return minima


def missing_outcome(chemsys: str, own: SystemEntries, missing: tuple[str, ...]) -> SystemOutcome:
    """A system with an element lacking any elemental reference: flagged, no numbers."""
    thermo = {
        int(key): EntryThermo(
            key=int(key),
            chemsys=chemsys,
            formation_energy_per_atom=None,
            e_above_hull=None,
            decomposition=None,
            decomposition_energy=None,
            is_stable=None,
            missing_elements=tuple(el for el in missing if el in own.elements),
        )
        for key in own.keys
    }
    hull = SystemHull(chemsys, own.elements, (), (), missing)
    empty = StablePoints(own.elements, np.zeros(0, np.int64), np.zeros((0, len(own.elements))), np.zeros(0))
    return SystemOutcome(hull, thermo, empty)


def compute_system(
    chemsys: str,
    own: SystemEntries,
    refs: np.ndarray,
    below: list[StablePoints],
    known: KnownHull | None = None,
    earlier: RowTable | None = None,
) -> SystemOutcome:
    """Hull of ``chemsys`` and thermo of its own entries.

    ``refs`` are the reference energies per atom of ``own.elements``; ``below`` the
    stable points of every proper subsystem that has entries, in bottom-up order.
    ``known``, the hull of this system in an earlier state, is brought up to date and used
    instead of calling qhull when that is provably what qhull would return now (see
    ``construction.hull_of_system`` and ``_known_simplices``). With ``earlier``, the system's rows
    in an earlier state, only the entries whose rows changed get a new ``EntryThermo``.
    """
    n = len(own.elements)
    group, n_groups = own.group, own.n_groups
    if n == 1:
        formation = formation_energies(own.fractions, own.energies, refs)
        return _unary_outcome(chemsys, own, formation, group_minima(group, n_groups, own.energies, own.keys))

    rows = own.rows()
    below_points = _below_arrays(below, n)
    codes = element_codes(own.elements, n)
    if known is not None and known.facets and known.points is None:
        # a state without its hulls' points (read back from storage): the earlier facets as they are
        system = inputs.system_points(rows, refs, below_points, codes, FORMATION_TOL)
        hull = _known_simplices(known, system)
        if hull is None:
            hull = _inserted_hull(system.fractions, system.coords, system.energies)
    else:
        old = known.points if known is not None and known.facets else _no_points(n)
        built = construction.hull_of_system(
            tuple(rows),
            refs,
            tuple(below_points),
            codes,
            tuple(old),
            FORMATION_TOL,
            DEGENERATE_DET,
            REUSE_MARGIN,
        )
        system, hull = built.points, built.hull if built.how else None
    if hull is None:
        hull = build_lower_hull(system.coords, system.energies)
    previous = earlier if earlier is not None else _no_rows(n)
    result = thermo.thermo_rows(
        tuple(hull),
        tuple(system),
        tuple(rows),
        tuple(previous),
        MAX_SUBSETS,
        DEGENERATE_DET,
        BARY_TOL,
        ON_HULL_TOL,
    )
    found = result.thermo
    formation = system.formation
    if result.complete:
        table, changed = result.table, result.changed
    else:
        gnome = found.gnome
        for v in np.flatnonzero(np.isnan(found.values)).tolist():
            # the neighbourhood's enumeration could not decide: the hull of all admissible points
            admissible, where = found.admissible[v], found.where[v]
            separation = _separation_by_insertion(system.fractions, system.energies, admissible, where)
            if separation is None:
                separation = _separation_by_qhull(
                    system.coords, system.energies, found.local[v], admissible, where
                )
            members = own.group == own.group[found.stable_rows[v]]
            gnome[members] = formation[members] - separation
        table = row_table(
            own.keys,
            found.stable_of_row,
            found.decomposition_keys,
            formation,
            found.e_above,
            gnome,
            found.bary,
        )
        changed = table.changed(previous)
    ints, floats = table.ints, table.floats
    changed_keys = own.keys
    if earlier is not None:
        ints, floats, changed_keys = ints[changed], floats[changed], own.keys[changed]
    table_rows = zip(
        changed_keys.tolist(),
        ints[:, 0].tolist(),
        ints[:, 1:].tolist(),
        floats[:, 3:].tolist(),
        floats[:, 0].tolist(),
        floats[:, 1].tolist(),
        floats[:, 2].tolist(),
        strict=True,
    )
    entries_thermo: dict[int, EntryThermo] = {}
    for key, stable, vertex_keys, amounts, form, above, gnome_energy in table_rows:
        if stable >= 0:
            decomposition = {stable: 1.0}
        else:
            decomposition = {k: a for k, a in zip(vertex_keys, amounts, strict=True) if abs(a) > AMOUNT_TOL}
        entries_thermo[key] = EntryThermo(
            key, chemsys, form, above, decomposition, gnome_energy, stable == key, ()
        )
    system_hull = SystemHull(
        chemsys=chemsys,
        elements=own.elements,
        stable_keys=tuple(found.stable_keys.tolist()),
        facets=tuple(map(tuple, found.sorted_facets.tolist())),
        missing_elements=(),
    )
    stable_rows = found.stable_rows
    stable_points = StablePoints(
        own.elements, own.keys[stable_rows], own.fractions[stable_rows], formation[stable_rows]
    )
    return SystemOutcome(
        system_hull,
        entries_thermo,
        stable_points,
        HullPoints(system.keys, system.coords, system.energies, hull.vertices, hull.planes),
        table,
    )


@functools.lru_cache(maxsize=16)
def _no_points(n: int) -> HullPoints:
    """No earlier hull, in the shapes of an ``n``-element system (read-only, shared)."""
    return HullPoints(
        np.zeros(0, np.int64), np.zeros((0, n - 1)), np.zeros(0), np.zeros((0, n), np.int64), np.zeros((0, n))
    )


@functools.lru_cache(maxsize=16)
def _no_rows(n: int) -> RowTable:
    """No earlier rows, in the shapes of an ``n``-element system (read-only, shared)."""
    return RowTable(np.zeros(0, np.int64), np.zeros((0, n + 1), np.int64), np.zeros((0, n + 3)))


def _known_simplices(known: KnownHull, system: SystemPoints) -> LowerHull | None:
    """An earlier hull's facets (keys only, the points it was built from unknown) over the
    current points, or None if qhull must run: used only when it is provably the lower hull
    (``is_lower_hull``): strictly convex, so its triangulation is unique and qhull would
    return exactly it, and covering the whole composition simplex. (With the earlier points
    at hand, ``construction.hull_of_system`` inserts the points that joined instead.)
    """
    coords, energies = system.coords, system.energies
    simplices = algebra.positions(np.array(known.facets, dtype=np.int64), system.keys)
    if (simplices < 0).any():
        return None  # an earlier vertex is gone
    hull = hull_from_simplices(coords, energies, algebra.canonical_rows(simplices))
    return hull if is_lower_hull(hull, coords, energies, REUSE_MARGIN) else None


def _inserted_hull(fractions: np.ndarray, coords: np.ndarray, energies: np.ndarray) -> LowerHull | None:
    """The hull built by insertion from the elemental corners (``construction.fresh_hull``), or None if
    it cannot be proved to be the lower hull (near-degenerate points: qhull decides then)."""
    proved = construction.fresh_hull(
        fractions, np.ascontiguousarray(coords), energies, DEGENERATE_DET, REUSE_MARGIN
    )
    return proved.hull if proved.ok else None


def _below_arrays(below: list[StablePoints], n: int) -> BelowPoints:
    """Keys and blocks (``StablePoints.block``) of the subsystems' stable points, for ``inputs.system_points``."""
    width = max(PAD, n)
    if not below:
        return BelowPoints(np.zeros(0, np.int64), np.zeros((0, 1 + 2 * width)))
    blocks = [stable.block for stable in below]
    if n > PAD:  # only then can a subsystem's block be narrower than this system's
        blocks = [b if b.shape[1] == 1 + 2 * width else _widened(b, width) for b in blocks]
    return BelowPoints(np.concatenate([stable.keys for stable in below]), np.concatenate(blocks))


def _widened(block: np.ndarray, width: int) -> np.ndarray:
    """A block re-padded to ``width`` fraction and code columns."""
    own = (block.shape[1] - 1) // 2
    wide = np.zeros((len(block), 1 + 2 * width))
    wide[:, 1 + width :] = -1.0
    wide[:, : 1 + own] = block[:, : 1 + own]
    wide[:, 1 + width : 1 + width + own] = block[:, 1 + own :]
    return wide


def _separation_by_insertion(
    fractions: np.ndarray, energies: np.ndarray, admissible: np.ndarray, where: np.ndarray
) -> float | None:
    """Hull energy at ``where`` over the admissible points, their hull built by insertion from the
    elemental corners (which are always admissible); None where it cannot be proved (then qhull)."""
    points = fractions[admissible]
    reduced = _inserted_hull(points, points[:, 1:], energies[admissible])
    if reduced is None:
        return None
    return float(algebra.locate_rows(reduced, where[None, :], BARY_TOL).energy[0])


def _separation_by_qhull(
    coords: np.ndarray, energies: np.ndarray, local: np.ndarray, admissible: np.ndarray, where: np.ndarray
) -> float:
    """Hull energy at ``where`` from the neighbourhood's qhull if it supports the admissible points, else from all."""
    target = where[None, :]
    try:
        reduced = build_lower_hull(coords[local], energies[local])
        sub_facet, bary = locate(reduced, target)
        plane = reduced.planes[sub_facet[0]]
        below_plane = energies[admissible] - (coords[admissible] @ plane[:-1] + plane[-1])
        if bary.min() >= -BARY_TOL and below_plane.min() >= -ON_HULL_TOL:
            return float(hull_energies(reduced, sub_facet, bary)[0])
    except (ValueError, IndexError, np.linalg.LinAlgError, QhullError):
        pass
    reduced = build_lower_hull(coords[admissible], energies[admissible])
    sub_facet, bary = locate(reduced, target)
    return float(hull_energies(reduced, sub_facet, bary)[0])


def _unary_outcome(
    chemsys: str, own: SystemEntries, formation: np.ndarray, minima: np.ndarray
) -> SystemOutcome:
    """An element: the reference is the lowest-energy entry; the others lie above it."""
    ref_row = int(minima[0])
    ref_key = int(own.keys[ref_row])
    thermo = {}
    for row, key in enumerate(own.keys):
        stable = row == ref_row
        e_above = 0.0 if stable else max(float(formation[row]), 0.0)
        thermo[int(key)] = EntryThermo(
            key=int(key),
            chemsys=chemsys,
            formation_energy_per_atom=float(formation[row]),
            e_above_hull=e_above,
            decomposition={ref_key: 1.0},
            decomposition_energy=e_above,
            is_stable=stable,
            missing_elements=(),
        )
    hull = SystemHull(chemsys, own.elements, (ref_key,), ((ref_key,),), ())
    stable_points = StablePoints(
        own.elements, own.keys[[ref_row]], own.fractions[[ref_row]], formation[[ref_row]]
    )
    return SystemOutcome(hull, thermo, stable_points)


__all__ = [
    "BARY_TOL",
    "HullPoints",
    "KnownHull",
    "RowTable",
    "SystemEntries",
    "StablePoints",
    "SystemOutcome",
    "compute_system",
    "missing_outcome",
]
