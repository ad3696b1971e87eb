"""Random structures for a composition, AIRSS-style, relaxed with a soft-sphere potential.

Ab initio random structure searching (Pickard & Needs, J. Phys.: Condens. Matter 23, 053201 (2011)), as
the GNoME composition pipeline used it (Merchant et al., Nature 624, 80 (2023), Methods: "100 random
structures per composition ... initialized with a volume from the atomic radii, 0.4 to 1.2 times it ...
relaxed with soft-sphere potentials"):

1. the reference volume ``V0`` is the sum of the atomic sphere volumes, ``4/3 pi r^3`` with ``r``
   pymatgen's empirical ``Element.atomic_radius``, over the atoms of the cell;
2. a random cell (lengths within a factor 2 of each other, angles 60-120 degrees) is scaled to a random
   volume ``u * V0`` with ``u`` uniform in ``volume_range`` (default 0.4 to 1.2), and the atoms are put
   at uniformly random fractional positions (space group P1; symmetric random cells, as ``pyxtal`` or
   AIRSS's ``buildcell`` make them, are not drawn here);
3. a soft-sphere potential pushes overlapping atoms apart: ``E = 1/2 sum_pairs (d_ij - r)^2`` for
   ``r < d_ij`` over all periodic images, with ``d_ij = scale * (rc_i + rc_j)`` from the covalent radii
   ``rc`` (Cordero et al. 2008, as in ``ase.data.covalent_radii``), ``scale`` 0.8 by default. It is
   minimised with L-BFGS (scipy) over the fractional positions at fixed cell, then, if overlaps remain,
   over positions and cell together (the cell can then only grow: the potential is purely repulsive);
4. a structure is kept only when no two atoms (periodic images included) are closer than ``d_ij`` and
   its volume is still within ``volume_range`` times ``V0``; otherwise another random start is drawn.

Deterministic: the random stream of each structure is seeded by ``(seed, composition, index)``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from ase.data import covalent_radii
from pymatgen.core import Composition, Element, Lattice, Structure
from scipy.optimize import minimize

from discovery.generation.candidates import Candidate, Proposal, unique_candidates

GENERATOR = "airss"
MIN_DISTANCE_SCALE = 0.8
VOLUME_RANGE = (0.4, 1.2)
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


def relax_soft_spheres(
    structure: Structure, contact: np.ndarray, *, relax_cell: bool = True, tol: float = 1e-10
) -> Structure:
    """Push overlapping atoms apart: positions at fixed cell, then positions and cell if needed."""
    n = len(structure)
    frac = structure.frac_coords.copy()
    lattice = structure.lattice.matrix.copy()
    images = _images(lattice, float(contact.max()) * POTENTIAL_MARGIN)
    target = contact * POTENTIAL_MARGIN

    def positions_only(x: np.ndarray) -> tuple[float, np.ndarray]:
        energy, grad_f, _ = soft_sphere_energy(x.reshape(n, 3), lattice, target, images)
        return energy, grad_f.ravel()

    result = minimize(positions_only, frac.ravel(), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    frac = result.x.reshape(n, 3)
    if relax_cell and result.fun > tol:

        def with_cell(x: np.ndarray) -> tuple[float, np.ndarray]:
            f, cell = x[: 3 * n].reshape(n, 3), x[3 * n :].reshape(3, 3)
            energy, grad_f, grad_l = soft_sphere_energy(f, cell, target, images)
            return energy, np.concatenate([grad_f.ravel(), grad_l.ravel()])

        result = minimize(
            with_cell,
            np.concatenate([frac.ravel(), lattice.ravel()]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 1000},
        )
        frac, lattice = result.x[: 3 * n].reshape(n, 3), result.x[3 * n :].reshape(3, 3)
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


def _random_lattice(rng: np.random.Generator, volume: float) -> Lattice:
    while True:
        lengths = rng.uniform(1.0, 2.0, size=3)
        angles = rng.uniform(60.0, 120.0, size=3)
        lattice = Lattice.from_parameters(*lengths, *angles)
        if lattice.volume > 0.3 * float(np.prod(lengths)):  # not too flat
            return lattice.scale(volume)


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
) -> tuple[Structure, float] | None:
    """One random structure of ``composition`` (the cell holds exactly this composition) and its volume
    factor ``V / V0``; ``None`` when ``max_tries`` random starts all failed the checks."""
    composition = Composition(composition)
    species = [el.symbol for el, amount in sorted(composition.items()) for _ in range(int(round(amount)))]
    v0 = reference_volume(species)
    contact = np.array([[min_distance(a, b, scale) for b in species] for a in species])
    rng = np.random.default_rng([seed, _composition_seed(composition), index])
    for _ in range(max_tries):
        factor = rng.uniform(*volume_range)
        lattice = _random_lattice(rng, factor * v0)
        start = Structure(lattice, species, rng.random((len(species), 3)))
        relaxed = relax_soft_spheres(start, contact)
        ratio = relaxed.volume / v0
        if not volume_range[0] <= ratio <= volume_range[1]:
            continue
        if closest_approach(relaxed, scale) < 1.0:
            continue
        return relaxed, ratio
    return None


def airss_proposals(
    compositions: Iterable[Composition | str],
    *,
    per_composition: int = 10,
    formula_units: Sequence[int] = (1, 2),
    max_atoms: int = 24,
    seed: int = 0,
    volume_range: tuple[float, float] = VOLUME_RANGE,
    scale: float = MIN_DISTANCE_SCALE,
) -> Iterator[Proposal]:
    """``per_composition`` random structures of each composition, cycling through ``formula_units``
    (cells of more than ``max_atoms`` atoms are skipped)."""
    for composition in compositions:
        reduced = Composition(composition).reduced_composition
        sizes = [z for z in formula_units if reduced.num_atoms * z <= max_atoms]
        if not sizes:
            continue
        for index in range(per_composition):
            z = sizes[index % len(sizes)]
            made = random_structure(
                reduced * z, seed=seed, index=index, volume_range=volume_range, scale=scale
            )
            if made is None:
                continue
            structure, ratio = made
            operation = f"AIRSS {reduced.reduced_formula} Z={z} V={ratio:.2f}xV0 (seed {seed}, #{index})"
            yield Proposal(structure, None, operation)


def airss_candidates(
    compositions: Iterable[Composition | str], *, budget: int, **options: Any
) -> Iterator[Candidate]:
    """At most ``budget`` unique random structures for ``compositions`` (no parent entry).

    ``options`` are those of :func:`airss_proposals`: ``per_composition``, ``formula_units``,
    ``max_atoms``, ``seed``, ``volume_range``, ``scale``.
    """
    return unique_candidates(airss_proposals(compositions, **options), generator=GENERATOR, budget=budget)
