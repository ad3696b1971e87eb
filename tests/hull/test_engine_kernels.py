"""The compiled kernels and the beneath-beyond insertion against numpy and qhull."""

import numpy as np
import pytest

from hull.engine.geometry import build_lower_hull, hull_from_simplices, inserted_simplices, is_lower_hull
from hull.engine.kernels.algebra import canonical_rows, invert
from hull.engine.kernels.construction import fresh_hull
from hull.engine.kernels.inputs import BelowPoints, SystemRows, composition_groups, system_points
from hull.engine.kernels.rows import RowTable, changed_rows, row_table


def test_invert_matches_numpy_and_flags_singular_matrices():
    rng = np.random.default_rng(3)
    for n in range(1, 9):
        matrix = rng.normal(size=(n, n))
        out = np.empty((n, n))
        det = invert(matrix.copy(), out)
        assert det == pytest.approx(np.linalg.det(matrix), rel=1e-9)
        np.testing.assert_allclose(out, np.linalg.inv(matrix), rtol=1e-9, atol=1e-12)
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert invert(singular, np.empty((2, 2))) == 0.0


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


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_hull_inserted_from_the_corners_is_qhulls_hull(n):
    rng = np.random.default_rng(40 + n)
    proved = 0
    for trial in range(20):
        coords, energies = composition_points(rng, n, m=3 + 3 * n)
        fractions = np.column_stack([1.0 - coords.sum(axis=1), coords])
        fractions[:n] = np.eye(n)  # corners exactly, as the engine stores them
        full = build_lower_hull(coords, energies)
        ok, hull = fresh_hull(fractions, np.ascontiguousarray(coords), energies, 1e-14, 1e-9)
        if not is_lower_hull(full, coords, energies, 1e-9):
            assert not ok, f"trial {trial}: a degenerate draw must be left to qhull"
            continue
        assert ok, f"trial {trial}"
        proved += 1
        np.testing.assert_array_equal(hull.vertices, full.vertices)
        np.testing.assert_array_equal(hull.planes, full.planes)
        np.testing.assert_array_equal(hull.inverse, full.inverse)
        np.testing.assert_array_equal(hull.energies, full.energies)
    assert proved >= 15


def test_fresh_hull_leaves_coplanar_points_and_missing_corners_to_qhull():
    # three collinear points at -1 eV/atom in a binary: the facet triangulation is not unique
    fractions = np.array([[1.0, 0.0], [0.0, 1.0], [0.75, 0.25], [0.5, 0.5], [0.25, 0.75]])
    energies = np.array([0.0, 0.0, -1.0, -1.0, -1.0])
    coords = np.ascontiguousarray(fractions[:, 1:])
    assert not fresh_hull(fractions, coords, energies, 1e-14, 1e-9)[0]
    energies[3] = -1.5
    assert fresh_hull(fractions, coords, energies, 1e-14, 1e-9)[0]
    no_corner = fractions[1:], coords[1:], energies[1:]
    assert not fresh_hull(*no_corner, 1e-14, 1e-9)[0]


def python_groups(fractions: np.ndarray, decimals: int) -> tuple[list[int], int]:
    index: dict[tuple[float, ...], int] = {}
    labels = [
        index.setdefault(tuple(round(x, decimals) for x in row), len(index)) for row in fractions.tolist()
    ]
    return labels, len(index)


def test_composition_groups_match_a_dictionary_of_rounded_rows():
    rng = np.random.default_rng(5)
    for n in (1, 2, 4, 7):
        base = rng.dirichlet(np.ones(n), size=30)
        picks = rng.integers(0, 30, size=200)
        # the same compositions again, computed from other totals (round-off below 1e-9)
        fractions = base[picks] * (1.0 + rng.uniform(-1e-13, 1e-13, size=(200, 1)))
        labels, count = composition_groups(fractions, 9)
        expected, expected_count = python_groups(fractions, 9)
        assert count == expected_count
        assert count == (1 if n == 1 else len(set(picks.tolist())))
        assert labels.tolist() == expected


def test_system_points_place_subsystem_points_by_element_code():
    from hull.engine.system import PAD, StablePoints, _below_arrays, element_code

    # a 9-element system (wider than PAD) over subsystems stored at PAD width and at its own
    elements = tuple(f"E{i}" for i in range(9))
    sub = StablePoints(("E2", "E7"), np.array([5]), np.array([[0.25, 0.75]]), np.array([-0.5]))
    wide = StablePoints(elements, np.array([6]), np.full((1, 9), 1 / 9), np.array([-0.2]))
    assert sub.block.shape[1] == 1 + 2 * PAD and wide.block.shape[1] == 1 + 18

    below = _below_arrays([sub, wide], 9)
    assert isinstance(below, BelowPoints)
    codes = np.array([element_code(el) for el in elements])
    own = SystemRows(np.full((1, 9), 1 / 9), np.array([-3.0]), np.array([7]), np.zeros(1, np.int64), 1)
    points = system_points(own, np.zeros(9), below, codes, 1e-11)
    assert points.keys.tolist() == [5, 6, 7]
    expected = np.zeros(9)
    expected[[2, 7]] = [0.25, 0.75]
    np.testing.assert_array_equal(points.fractions[0], expected)
    np.testing.assert_array_equal(points.fractions[1], np.full(9, 1 / 9))
    np.testing.assert_array_equal(points.coords, points.fractions[:, 1:])
    assert points.energies.tolist() == [-0.5, -0.2, -3.0]
    assert len({element_code(el) for el in ("O", "Os", "Og", "H", "Hf", "a-very-long-name")}) == 6


def test_changed_rows_finds_new_keys_and_any_differing_bit():
    rng = np.random.default_rng(11)
    old_keys = np.array([2, 5, 9, 14], dtype=np.int64)
    old_ints = rng.integers(0, 100, size=(4, 4)).astype(np.int64)
    old_floats = rng.normal(size=(4, 6))
    # an update's rows: key 7 joined, key 14's energy above hull moved by one ulp, key 5's
    # decomposition changed vertex, key 9 is NaN in both (NaN never counts as equal)
    keys = np.array([2, 5, 7, 9, 14], dtype=np.int64)
    ints = np.insert(old_ints, 2, 0, axis=0)
    floats = np.insert(old_floats, 2, 0.0, axis=0)
    floats[4, 1] = np.nextafter(floats[4, 1], np.inf)
    ints[1, 2] += 1
    floats[3, 0] = old_floats[2, 0] = np.nan
    old = RowTable(old_keys, old_ints, old_floats)
    changed = changed_rows(RowTable(keys, ints, floats), old)
    assert changed.tolist() == [1, 2, 3, 4]
    assert old.changed(old).tolist() == [2]
    wider = np.zeros((4, 7))
    assert changed_rows(RowTable(old_keys, old_ints, wider), old).tolist() == [
        0,
        1,
        2,
        3,
    ]


def test_row_table_holds_the_stable_polymorphs_key_and_the_decomposition():
    keys = np.array([10, 11, 12], dtype=np.int64)
    stable_of_row = np.array([-1, 2, 2], dtype=np.int64)
    decomposition_keys = np.array([[1, 2], [12, 3], [12, 3]], dtype=np.int64)
    bary = np.array([[0.25, 0.75], [1.0, 0.0], [1.0, 0.0]])
    table = row_table(
        keys,
        stable_of_row,
        decomposition_keys,
        np.array([-0.1, -0.2, -0.3]),
        np.array([0.1, 0.1, 0.0]),
        np.array([0.1, 0.1, -0.05]),
        bary,
    )
    np.testing.assert_array_equal(table.keys, keys)
    assert table.ints.tolist() == [[-1, 1, 2], [12, 12, 3], [12, 12, 3]]
    np.testing.assert_array_equal(
        table.floats[:, :3], [[-0.1, 0.1, 0.1], [-0.2, 0.1, 0.1], [-0.3, 0.0, -0.05]]
    )
    np.testing.assert_array_equal(table.floats[:, 3:], bary)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_canonical_rows_sorts_each_row_then_the_rows_like_lexsort(n):
    rng = np.random.default_rng(n)
    for count in (0, 1, 2, 7, 64, 301):
        simplices = rng.integers(0, 12, size=(count, n)).astype(np.int64)  # repeats within and across rows
        rows = np.sort(simplices, axis=1)
        expected = rows[np.lexsort(rows.T[::-1])] if count else rows
        np.testing.assert_array_equal(canonical_rows(simplices), expected)
