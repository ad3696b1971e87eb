"""The compiled kernels and the beneath-beyond insertion against numpy and qhull."""

import numpy as np
import pytest

from hull import engine_kernels as kernels
from hull.engine_geometry import build_lower_hull, hull_from_simplices, inserted_simplices, is_lower_hull


def test_invert_matches_numpy_and_flags_singular_matrices():
    rng = np.random.default_rng(3)
    for n in range(1, 9):
        matrix = rng.normal(size=(n, n))
        out = np.empty((n, n))
        det = kernels._invert(matrix.copy(), out)
        assert det == pytest.approx(np.linalg.det(matrix), rel=1e-9)
        np.testing.assert_allclose(out, np.linalg.inv(matrix), rtol=1e-9, atol=1e-12)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert kernels._invert(singular, np.empty((2, 2))) == 0.0


def composition_points(rng: np.random.Generator, n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Element corners (energy 0), points on the faces of the simplex and inside it, with
    random negative formation energies: the shape of a system's hull input."""
    corners = np.eye(n)
    inner = rng.dirichlet(np.ones(n), size=m)
    on_faces = rng.dirichlet(np.ones(n), size=m)
    on_faces[np.arange(m), rng.integers(0, n, size=m)] = 0.0  # one element absent: on a face
    on_faces /= on_faces.sum(axis=1, keepdims=True)
    fractions = np.vstack([corners, on_faces, inner])
    energies = np.concatenate([np.zeros(n), -rng.uniform(0.1, 2.0, size=2 * m)])
    return fractions[:, 1:], energies


def canonical(simplices: np.ndarray) -> set[tuple[int, ...]]:
    return {tuple(sorted(row)) for row in simplices.tolist()}


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_insertion_into_a_known_hull_gives_qhulls_hull(n):
    rng = np.random.default_rng(10 + n)
    for trial in range(20):
        coords, energies = composition_points(rng, n, m=4 + 2 * n)
        full = build_lower_hull(coords, energies)
        if not is_lower_hull(full, coords, energies, 1e-9):
            continue  # near-degenerate draw: the insertion's result would not be used either
        # the corners and a random part of the others first, then the rest join
        order = rng.permutation(np.arange(n, len(energies)))
        first = np.concatenate([np.arange(n), order[: len(order) // 3]])
        later = order[len(order) // 3 :]
        known = build_lower_hull(coords[first], energies[first])
        start = first[known.vertices]
        result = inserted_simplices(coords, energies, start, later)
        assert canonical(result) == canonical(full.vertices), f"trial {trial}"
        assert is_lower_hull(
            hull_from_simplices(coords, energies, np.sort(result, axis=1)), coords, energies, 1e-9
        )


def test_is_lower_hull_rejects_a_missing_facet_and_a_point_below_a_facet():
    rng = np.random.default_rng(1)
    coords, energies = composition_points(rng, 3, m=6)
    hull = build_lower_hull(coords, energies)
    assert is_lower_hull(hull, coords, energies, 1e-9)
    missing = hull_from_simplices(coords, energies, hull.vertices[1:])
    assert not is_lower_hull(missing, coords, energies, 1e-9)
    above = np.setdiff1d(np.arange(len(energies)), hull.vertices)
    assert len(above)
    lowered = energies.copy()
    lowered[above[0]] -= 5.0  # now below the facet it sat above
    assert not is_lower_hull(hull_from_simplices(coords, lowered, hull.vertices), coords, lowered, 1e-9)
