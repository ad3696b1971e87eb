"""Random structures for a composition, AIRSS-style, relaxed with a soft-sphere potential.

Ab initio random structure searching (Pickard & Needs, J. Phys.: Condens. Matter 23, 053201 (2011)), as
the GNoME composition pipeline used it (Merchant et al., Nature 624, 80 (2023), Methods: "100 random
structures per composition ... initialized with a volume from the atomic radii, 0.4 to 1.2 times it ...
relaxed with soft-sphere potentials"):

1. the reference volume ``V0`` is the sum of the atomic sphere volumes, ``4/3 pi r^3`` with ``r``
   pymatgen's empirical ``Element.atomic_radius``, over the atoms of the cell;
2. a space group is drawn at random among those (2 to 230) whose Wyckoff multiplicities can hold the
   cell's atom counts (``pyxtal.symmetry.Group.check_compatible``; P1 only when none can), and pyxtal
   places the atoms on random Wyckoff positions of a random cell of that group (``pyxtal.from_random``);
   the cell is then scaled to a random volume ``u * V0`` with ``u`` uniform in ``volume_range`` (default
   0.4 to 1.2). pyxtal's own volume (its ``factor`` times its elemental volumes) is not used: scaling keeps
   the symmetry and gives the paper's volume range exactly;
3. a soft-sphere potential pushes overlapping atoms apart: ``E = 1/2 sum_pairs (d_ij - r)^2`` for
   ``r < d_ij`` over all periodic images, with ``d_ij = scale * (rc_i + rc_j)`` from the covalent radii
   ``rc`` (Cordero et al. 2008, as in ``ase.data.covalent_radii``), ``scale`` 0.8 by default. It is
   minimised with L-BFGS (scipy) over the Cartesian positions at fixed cell; while overlaps remain the
   cell grows isotropically, a step at a time, and the positions relax again (the cell can only grow:
   the potential is purely repulsive). Forces and steps of a symmetric arrangement are symmetric, so the
   relaxation keeps the space group it was drawn in (or finds a higher one, when pyxtal's random
   Wyckoff parameters landed on special values);
4. a structure is kept only when no two atoms (periodic images included) are closer than ``d_ij`` and
   its volume is still within ``volume_range`` times ``V0``; otherwise another random start is drawn.

As many structures per composition as ``per_composition`` says (the paper's 100 by default), taken in
turns over the compositions (first structure of each, then the second of each, ...), so that a budget
smaller than ``per_composition`` times the number of compositions is spread over them in rank order.

Deterministic: the random stream of each structure is seeded by ``(seed, composition, index)``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from functools import cache
from typing import Any

import numpy as np
from ase.data import covalent_radii
from pymatgen.core import Composition, Element, Lattice, Structure
from scipy.optimize import minimize

from discovery.generation import PER_COMPOSITION
from discovery.generation.candidates import Candidate, Proposal, unique_candidates

GENERATOR = "airss"
MIN_DISTANCE_SCALE = 0.8
VOLUME_RANGE = (0.4, 1.2)
CELL_GROWTH_STEPS = 6  # isotropic growth steps of the soft-sphere relaxation before the final stretch
POTENTIAL_MARGIN = 1.03  # the potential pushes to 3 % beyond d_ij, so the converged r >= d_ij


def atomic_volume(symbol: str) -> float:
    """``4/3 pi r^3`` of pymatgen's empirical atomic radius (1.5 Å where there is none)."""
    radius = Element(symbol).atomic_radius or 1.5
    return 4.0 / 3.0 * math.pi * float(radius) ** 3


def reference_volume(species: Sequence[str]) -> float:
    """Sum of the atomic volumes of the atoms of a cell (Å^3)."""
    return sum(atomic_volume(symbol) for symbol in species)


def min_distance(a: str, b: str, scale: float = MIN_DISTANCE_SCALE) -> float:
    """The soft-sphere contact distance of two elements: ``scale`` times the sum of covalent radii."""
    return scale * float(covalent_radii[Element(a).Z] + covalent_radii[Element(b).Z])


def _images(lattice: np.ndarray, cutoff: float) -> np.ndarray:
    """Integer image vectors that can hold a neighbour within ``cutoff`` (from the cell's heights)."""
    volume = abs(np.linalg.det(lattice))
    heights = [
        volume / np.linalg.norm(np.cross(lattice[(k + 1) % 3], lattice[(k + 2) % 3])) for k in range(3)
    ]
    reach = [int(math.ceil(cutoff / h)) + 1 for h in heights]
    ranges = [np.arange(-r, r + 1) for r in reach]
    return np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1).T.astype(float)


def soft_sphere_energy(
    frac: np.ndarray, lattice: np.ndarray, contact: np.ndarray, images: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy, gradient w.r.t. the fractional coordinates ``(N, 3)`` and w.r.t. the lattice ``(3, 3)``
    (rows are the lattice vectors).

    ``E = 1/4 sum_{i, j, n} (d_ij - r_ijn)^2`` over ordered pairs and images with ``r < d`` (each
    unordered pair counted twice, hence 1/4 = 1/2 * 1/2), ``r_ijn = |(f_j - f_i + n) L|``.
    """
    u = frac[None, :, None, :] - frac[:, None, None, :] + images[None, None, :, :]  # (N, N, M, 3)
    v = u @ lattice
    r = np.linalg.norm(v, axis=-1)
    d = contact[:, :, None]
    overlap = np.where((r < d) & (r > 1e-12), d - r, 0.0)
    energy = 0.25 * float(np.sum(overlap**2))
    safe_r = np.where(r > 1e-12, r, 1.0)
    g = (-0.5 * overlap / safe_r)[..., None] * v  # dE/dv per (i, j, n)
    grad_frac = np.einsum("ijnb,ab->ja", g, lattice) - np.einsum("ijnb,ab->ia", g, lattice)
    grad_lattice = np.einsum("ijna,ijnb->ab", u, g)
    return energy, grad_frac, grad_lattice


def _worst_ratio(frac: np.ndarray, lattice: np.ndarray, target: np.ndarray, images: np.ndarray) -> float:
    """The smallest ``r / d`` over pairs and images (the self-image at zero distance left out)."""
    u = frac[None, :, None, :] - frac[:, None, None, :] + images[None, None, :, :]
    r = np.linalg.norm(u @ lattice, axis=-1)
    ratio = np.where(r > 1e-12, r / target[:, :, None], np.inf)
    return float(ratio.min())


def relax_soft_spheres(
    structure: Structure, contact: np.ndarray, *, relax_cell: bool = True, tol: float = 1e-10
) -> Structure:
    """Push overlapping atoms apart: positions at fixed cell; while overlaps remain (and ``relax_cell``),
    the cell grows isotropically by a third of the stretch that would clear them, and the positions relax
    again (at most :data:`CELL_GROWTH_STEPS` times; then the full stretch clears them).

    The variables are Cartesian positions and the growth is isotropic, so every step, like the forces,
    has the structure's symmetry (a step in fractional coordinates does not, in a non-orthogonal cell,
    and a free cell could shear a cubic cell into a triclinic one)."""
    n = len(structure)
    lattice = structure.lattice.matrix.copy()
    images = _images(lattice, float(contact.max()) * POTENTIAL_MARGIN)
    target = contact * POTENTIAL_MARGIN

    def relax_positions(cart: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, float]:
        inverse = np.linalg.inv(cell)

        def energy(x: np.ndarray) -> tuple[float, np.ndarray]:
            value, grad_f, _ = soft_sphere_energy(x.reshape(n, 3) @ inverse, cell, target, images)
            return value, (grad_f @ inverse.T).ravel()

        result = minimize(energy, cart.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": 500})
        return result.x.reshape(n, 3) @ inverse, float(result.fun)

    frac, energy = relax_positions(structure.cart_coords, lattice)
    for step in range(CELL_GROWTH_STEPS + 1 if relax_cell else 0):
        if energy <= tol:
            break
        stretch = 1.0 / _worst_ratio(frac, lattice, target, images)
        lattice = lattice * (stretch if step == CELL_GROWTH_STEPS else stretch ** (1.0 / 3.0))
        frac, energy = relax_positions(frac @ lattice, lattice)
    return Structure(Lattice(lattice), structure.species, frac % 1.0)


def closest_approach(structure: Structure, scale: float = MIN_DISTANCE_SCALE) -> float:
    """The smallest ratio ``r / d_ij`` over all pairs and periodic images (>= 1 means no overlap)."""
    symbols = sorted({site.specie.symbol for site in structure})
    cutoff = max(min_distance(a, b, scale) for a in symbols for b in symbols)
    worst = math.inf
    for site, neighbours in zip(structure, structure.get_all_neighbors(cutoff), strict=True):
        for neighbour in neighbours:
            ratio = neighbour.nn_distance / min_distance(site.specie.symbol, neighbour.specie.symbol, scale)
            worst = min(worst, ratio)
    return worst


@cache
def _group(number: int):
    from pyxtal.symmetry import Group

    return Group(number)


def random_space_group(counts: Sequence[int], rng: np.random.Generator) -> int:
    """A space group drawn at random among 2-230 whose Wyckoff positions can hold ``counts`` atoms of
    each element (1, P1, when none can)."""
    for number in rng.permutation(np.arange(2, 231)):
        if _group(int(number)).check_compatible(list(counts))[0]:
            return int(number)
    return 1


def _symmetric_start(species: list[str], counts: list[int], number: int, seed: int) -> Structure | None:
    """pyxtal's random crystal of space group ``number`` (conventional cell), or None when it fails."""
    from pyxtal import pyxtal

    crystal = pyxtal()
    try:
        crystal.from_random(3, number, species, counts, random_state=seed)
    except Exception:  # pyxtal raises its own errors for cells it cannot fill
        return None
    return crystal.to_pymatgen() if crystal.valid else None


def _composition_seed(composition: Composition) -> int:
    return zlib.crc32(composition.formula.replace(" ", "").encode())


def random_structure(
    composition: Composition | str,
    *,
    seed: int,
    index: int = 0,
    volume_range: tuple[float, float] = VOLUME_RANGE,
    scale: float = MIN_DISTANCE_SCALE,
    max_tries: int = 20,
) -> tuple[Structure, float, int] | None:
    """One symmetric random structure of ``composition`` (the cell holds exactly this composition), its
    volume factor ``V / V0`` and the space group it was drawn in; ``None`` when ``max_tries`` random
    starts all failed the checks."""
    composition = Composition(composition)
    species = [el.symbol for el in sorted(composition)]
    counts = [int(round(composition[symbol])) for symbol in species]
    v0 = reference_volume([symbol for symbol, n in zip(species, counts, strict=True) for _ in range(n)])
    rng = np.random.default_rng([seed, _composition_seed(composition), index])
    for _ in range(max_tries):
        number = random_space_group(counts, rng)
        start = _symmetric_start(species, counts, number, int(rng.integers(2**31)))
        factor = rng.uniform(*volume_range)
        if start is None or len(start) != sum(counts):
            continue
        start.scale_lattice(factor * v0)
        symbols = [site.specie.symbol for site in start]
        contact = np.array([[min_distance(a, b, scale) for b in symbols] for a in symbols])
        relaxed = relax_soft_spheres(start, contact)
        ratio = relaxed.volume / v0
        if not volume_range[0] <= ratio <= volume_range[1]:
            continue
        if closest_approach(relaxed, scale) < 1.0:
            continue
        return relaxed, ratio, number
    return None


def airss_proposals(
    compositions: Iterable[Composition | str],
    *,
    per_composition: int = PER_COMPOSITION,
    formula_units: Sequence[int] = (1, 2),
    max_atoms: int = 24,
    seed: int = 0,
    volume_range: tuple[float, float] = VOLUME_RANGE,
    scale: float = MIN_DISTANCE_SCALE,
) -> Iterator[Proposal]:
    """``per_composition`` random structures of each composition, in turns over the compositions (see
    the module docstring), cycling through ``formula_units`` (cells of more than ``max_atoms`` atoms are
    skipped)."""
    cells = []
    for composition in compositions:
        reduced = Composition(composition).reduced_composition
        sizes = [z for z in formula_units if reduced.num_atoms * z <= max_atoms]
        if sizes:
            cells.append((reduced, sizes))
    for index in range(per_composition):
        for reduced, sizes in cells:
            z = sizes[index % len(sizes)]
            made = random_structure(
                reduced * z, seed=seed, index=index, volume_range=volume_range, scale=scale
            )
            if made is None:
                continue
            structure, ratio, number = made
            symbol = _group(number).symbol
            operation = f"AIRSS {reduced.reduced_formula} Z={z} {symbol} ({number}) V={ratio:.2f}xV0 (seed {seed}, #{index})"
            yield Proposal(structure, None, operation)


def airss_candidates(
    compositions: Iterable[Composition | str], *, budget: int, **options: Any
) -> Iterator[Candidate]:
    """At most ``budget`` unique random structures for ``compositions`` (no parent entry).

    ``options`` are those of :func:`airss_proposals`: ``per_composition`` (the paper's 100 by default;
    the budget clips the total), ``formula_units``,
    ``max_atoms``, ``seed``, ``volume_range``, ``scale``.
    """
    return unique_candidates(airss_proposals(compositions, **options), generator=GENERATOR, budget=budget)
