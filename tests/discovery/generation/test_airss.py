"""AIRSS random structures: composition, minimum separations, volume range, determinism."""

import math

import numpy as np
from pymatgen.core import Composition, Element
from scipy.optimize import check_grad

from discovery.generation.airss import _images, airss_candidates, min_distance, soft_sphere_energy


def _v0(structure):
    return sum(4 / 3 * math.pi * Element(site.specie.symbol).atomic_radius ** 3 for site in structure)


def _assert_no_overlap(structure):
    distances = structure.distance_matrix
    for i, a in enumerate(structure):
        for j, b in enumerate(structure):
            if i != j:
                assert distances[i, j] >= min_distance(a.specie.symbol, b.specie.symbol) - 1e-6
    shortest_lattice_vector = min(structure.lattice.get_lll_reduced_lattice().abc)
    for site in structure:
        assert shortest_lattice_vector >= min_distance(site.specie.symbol, site.specie.symbol) - 1e-6


def test_random_structures_are_valid():
    out = list(airss_candidates(["Li2O", "LiMnO2"], budget=8, per_composition=4, seed=7))
    assert len(out) == 8
    for candidate in out:
        structure = candidate.structure
        z = int(candidate.operation.split("Z=")[1].split()[0])
        assert structure.composition == Composition(candidate.composition) * z
        _assert_no_overlap(structure)
        assert 0.4 - 1e-9 <= structure.volume / _v0(structure) <= 1.2 + 1e-9
        assert candidate.parent_id is None and candidate.generator == "airss"


def test_deterministic_with_a_seed():
    def run(seed):
        return list(airss_candidates(["Li2O"], budget=3, per_composition=3, seed=seed))

    first, second, other = run(1), run(1), run(2)
    assert [c.candidate_id for c in first] == [c.candidate_id for c in second]
    for a, b in zip(first, second, strict=True):
        assert np.allclose(a.structure.frac_coords, b.structure.frac_coords)
        assert np.allclose(a.structure.lattice.matrix, b.structure.lattice.matrix)
    assert not np.allclose(first[0].structure.lattice.matrix, other[0].structure.lattice.matrix)


def test_soft_sphere_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    n = 4
    lattice = np.array([[3.0, 0.2, 0.0], [0.1, 2.8, 0.3], [0.0, 0.4, 3.1]])
    contact = np.full((n, n), 2.0)
    images = _images(lattice, 2.2)

    def energy(x):
        return soft_sphere_energy(x[:12].reshape(n, 3), x[12:].reshape(3, 3), contact, images)[0]

    def gradient(x):
        _, grad_f, grad_l = soft_sphere_energy(x[:12].reshape(n, 3), x[12:].reshape(3, 3), contact, images)
        return np.concatenate([grad_f.ravel(), grad_l.ravel()])

    x = np.concatenate([rng.random((n, 3)).ravel(), lattice.ravel()])
    assert energy(x) > 0
    assert check_grad(energy, gradient, x) < 1e-5 * max(1.0, np.linalg.norm(gradient(x)))
