"""Compiled inner loops of the hull engine (numba): one call per step of a system's computation.

A chemical system holds a handful to a few hundred points, so array calls cost far more in
dispatch than in arithmetic; these kernels do each step of ``hull.engine_system`` in one
compiled call instead. The qhull call itself stays in ``hull.engine_geometry``. Every loop
runs in a fixed order, so a system's result depends only on its own inputs: a full build
and an incremental update compute each system bit for bit alike.

``PAD`` is the width to which stable points are stored padded for embedding in supersets
(``StablePoints.block``); systems of more elements are padded to their own width.
"""

from __future__ import annotations

import numpy as np
from numba import njit

PAD = 8


@njit(cache=True)
def formation_energies(fractions: np.ndarray, energies: np.ndarray, refs: np.ndarray) -> np.ndarray:
    """E_f = E - sum_i x_i E_i(ref), column by column (the one place formation energies are computed)."""
    m, n = fractions.shape
    formation = np.empty(m)
    for i in range(m):
        total = 0.0
        for c in range(n):
            total = total + fractions[i, c] * refs[c]
        formation[i] = energies[i] - total
    return formation


@njit(cache=True)
def stable_block(fractions: np.ndarray, formation: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Rows of [formation, fractions padded to ``len(codes)``, element codes] (``StablePoints.block``)."""
    m, n = fractions.shape
    width = len(codes)
    block = np.zeros((m, 1 + 2 * width))
    for i in range(m):
        block[i, 0] = formation[i]
        for c in range(n):
            block[i, 1 + c] = fractions[i, c]
        for c in range(width):
            block[i, 1 + width + c] = codes[c]
    return block


@njit(cache=True)
def system_points(
    fractions: np.ndarray,
    energies: np.ndarray,
    keys: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    refs: np.ndarray,
    below_keys: np.ndarray,
    below_block: np.ndarray,
    codes: np.ndarray,
    formation_tol: float,
):
    """Formation energies, candidate rows and the hull's input points of one system.

    Rows are sorted by key, so the first of equal-energy polymorphs is the smallest key.
    ``below_block`` holds the subsystems' stable points (``StablePoints.block``: formation
    energy, fractions in their own columns, their element codes); each is placed in the
    column of this system (element codes ``codes``) that carries its element. Returns
    (formation, candidate_rows, point_fractions, point_energies, point_keys): the points
    are the subsystems' stable points, then the candidates.
    """
    m, n = fractions.shape
    formation = formation_energies(fractions, energies, refs)
    best = np.full(n_groups, -1, dtype=np.int64)
    for i in range(m):
        g = group[i]
        if best[g] < 0 or energies[i] < energies[best[g]]:
            best[g] = i
    is_candidate = np.zeros(m, dtype=np.bool_)
    for g in range(n_groups):
        if formation[best[g]] < -formation_tol:
            is_candidate[best[g]] = True
    candidate_rows = np.flatnonzero(is_candidate)
    b = len(below_keys)
    width = (below_block.shape[1] - 1) // 2
    points = np.zeros((b + len(candidate_rows), n))
    point_energies = np.empty(b + len(candidate_rows))
    point_keys = np.empty(b + len(candidate_rows), dtype=np.int64)
    for i in range(b):
        for j in range(width):
            code = below_block[i, 1 + width + j]
            if code < 0.0:
                break
            for c in range(n):
                if codes[c] == code:
                    points[i, c] = below_block[i, 1 + j]
                    break
        point_energies[i] = below_block[i, 0]
        point_keys[i] = below_keys[i]
    for k in range(len(candidate_rows)):
        row = candidate_rows[k]
        points[b + k] = fractions[row]
        point_energies[b + k] = formation[row]
        point_keys[b + k] = keys[row]
    return formation, candidate_rows, points, point_energies, point_keys


@njit(cache=True)
def canonical_rows(simplices: np.ndarray) -> np.ndarray:
    """Each row sorted, rows in lexicographic order (the engine's canonical facet order).

    Rows are sorted in place by insertion (at most one column per element), then ordered by a
    stable merge sort on whole rows: one allocation each, where a system's hull has tens of facets.
    """
    rows = simplices.copy()
    count, n = rows.shape
    for r in range(count):
        for i in range(1, n):
            value = rows[r, i]
            j = i - 1
            while j >= 0 and rows[r, j] > value:
                rows[r, j + 1] = rows[r, j]
                j -= 1
            rows[r, j + 1] = value
    return rows[_lexicographic_order(rows)]


@njit(cache=True)
def _row_less(rows: np.ndarray, a: int, b: int) -> bool:
    for c in range(rows.shape[1]):
        if rows[a, c] != rows[b, c]:
            return rows[a, c] < rows[b, c]
    return False


@njit(cache=True)
def _lexicographic_order(rows: np.ndarray) -> np.ndarray:
    """Stable order of the rows, lexicographic (bottom-up merge sort)."""
    count = rows.shape[0]
    source = np.arange(count)
    target = np.empty(count, dtype=np.int64)
    width = 1
    while width < count:
        for low in range(0, count, 2 * width):
            middle = min(low + width, count)
            high = min(low + 2 * width, count)
            i, j, k = low, middle, low
            while i < middle and j < high:
                if _row_less(rows, source[j], source[i]):
                    target[k] = source[j]
                    j += 1
                else:
                    target[k] = source[i]
                    i += 1
                k += 1
            while i < middle:
                target[k] = source[i]
                i += 1
                k += 1
            while j < high:
                target[k] = source[j]
                j += 1
                k += 1
        source, target = target, source
        width *= 2
    return source


@njit(cache=True)
def lower_facets(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, top: np.ndarray, det_tol: float
):
    """Inverse vertex matrices, planes and vertex energies of canonical simplices.

    Drops simplices with ``|det [x, 1]| <= det_tol`` (vertical) and, when ``top`` is given
    (a point above every lower facet plane; empty to skip), those whose plane passes above
    it. Returns (vertices, inverse, planes, facet_energies).
    """
    vertices, inverse, planes, facet_energies, _ = _facet_algebra(coords, energies, simplices, top, det_tol)
    return vertices, inverse, planes, facet_energies


@njit(cache=True)
def _facet_algebra(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, top: np.ndarray, det_tol: float
):
    """``lower_facets`` plus the ``|det [x, 1]|`` of each kept facet (their sum is the area covered)."""
    count, n = simplices.shape
    keep = np.zeros(count, dtype=np.bool_)
    inverse = np.empty((count, n, n))
    planes = np.empty((count, n))
    dets = np.empty(count)
    matrix = np.empty((n, n))
    for f in range(count):
        _fill_matrix(coords, simplices[f], matrix)
        det = _invert(matrix, inverse[f])
        dets[f] = abs(det)
        if not abs(det) > det_tol:
            continue
        for i in range(n):
            value = 0.0
            for j in range(n):
                value = value + inverse[f, i, j] * energies[simplices[f, j]]
            planes[f, i] = value
        if len(top):
            height = planes[f, n - 1]
            for j in range(n - 1):
                height = height + planes[f, j] * top[j]
            if not height < top[n - 1]:
                continue
        keep[f] = True
    if not keep.all():
        simplices, inverse, planes, dets = simplices[keep], inverse[keep], planes[keep], dets[keep]
    facet_energies = np.empty((len(simplices), n))
    for f in range(len(simplices)):
        for i in range(n):
            facet_energies[f, i] = energies[simplices[f, i]]
    return simplices, inverse, planes, facet_energies, dets


@njit(cache=True)
def _invert(matrix: np.ndarray, out: np.ndarray) -> float:
    """Gauss-Jordan inverse with partial pivoting into ``out``; returns the determinant (0.0 if singular).

    ``matrix`` is overwritten. Small dense matrices (at most one row per element), where a
    LAPACK call costs more in dispatch than in arithmetic.
    """
    n = matrix.shape[0]
    for i in range(n):
        for j in range(n):
            out[i, j] = 1.0 if i == j else 0.0
    det = 1.0
    for c in range(n):
        pivot = c
        for r in range(c + 1, n):
            if abs(matrix[r, c]) > abs(matrix[pivot, c]):
                pivot = r
        if matrix[pivot, c] == 0.0:
            return 0.0
        if pivot != c:
            det = -det
            for j in range(n):
                matrix[c, j], matrix[pivot, j] = matrix[pivot, j], matrix[c, j]
                out[c, j], out[pivot, j] = out[pivot, j], out[c, j]
        scale = matrix[c, c]
        det = det * scale
        for j in range(n):
            matrix[c, j] = matrix[c, j] / scale
            out[c, j] = out[c, j] / scale
        for r in range(n):
            if r != c:
                factor = matrix[r, c]
                if factor != 0.0:
                    for j in range(n):
                        matrix[r, j] = matrix[r, j] - factor * matrix[c, j]
                        out[r, j] = out[r, j] - factor * out[c, j]
    return det


@njit(cache=True)
def locate_rows(
    planes: np.ndarray, inverse: np.ndarray, facet_energies: np.ndarray, coords: np.ndarray, bary_tol: float
):
    """Facet, barycentric coordinates and hull energy at each composition row.

    The facet is the plane of maximum value (first of ties); where it does not contain the
    composition (ties on shared edges), the facet whose smallest coordinate is largest.
    """
    q = coords.shape[0]
    count, n = planes.shape
    if count == 0 and q > 0:
        raise ValueError("no facets to locate compositions in")
    facet = np.zeros(q, dtype=np.int64)
    bary = np.zeros((q, n))
    energy = np.zeros(q)
    point = np.empty(n)
    for r in range(q):
        for j in range(n - 1):
            point[j] = coords[r, j]
        point[n - 1] = 1.0
        best, best_value = 0, -np.inf
        for f in range(count):
            value = 0.0
            for i in range(n):
                value = value + point[i] * planes[f, i]
            if value > best_value:
                best, best_value = f, value
        worst = _weights(point, inverse[best], bary[r])
        if worst < -bary_tol:
            trial = np.empty(n)
            best_worst = -np.inf
            for f in range(count):
                w = _weights(point, inverse[f], trial)
                if w > best_worst:
                    best_worst, best = w, f
            _weights(point, inverse[best], bary[r])
        facet[r] = best
        total = 0.0
        for j in range(n):
            total = total + bary[r, j] * facet_energies[best, j]
        energy[r] = total
    return facet, bary, energy


@njit(cache=True)
def _weights(point: np.ndarray, inverse: np.ndarray, out: np.ndarray) -> float:
    """out = point @ inverse (barycentric coordinates); returns their minimum."""
    n = len(point)
    smallest = np.inf
    for j in range(n):
        value = 0.0
        for i in range(n):
            value = value + point[i] * inverse[i, j]
        out[j] = value
        smallest = min(smallest, value)
    return smallest


@njit(cache=True)
def separations(
    group: np.ndarray,
    candidate_rows: np.ndarray,
    coords: np.ndarray,
    energies: np.ndarray,
    vertices: np.ndarray,
    facet: np.ndarray,
    e_above: np.ndarray,
    stable_rows: np.ndarray,
    where: np.ndarray,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
):
    """Hull energy at each stable row's composition without that composition (GNoME).

    Only points that can lie on the hull without the removed vertex are admissible: the
    subsystems' points, the other vertices, and own candidates whose facet touches the
    vertex or that lie on the hull (anything else is above a facet that survives the
    removal). The hull near the removed vertex is first taken from its neighbourhood
    alone (its link plus the candidates under its star), by enumerating the simplices of
    those few points; the result is accepted when the plane of the lowest simplex lies
    below every admissible point (then it supports the full hull too). Returns (values,
    local, admissible): values NaN where the enumeration could not decide (the caller
    falls back to qhull with the ``local`` and ``admissible`` point masks).
    """
    n_points = len(energies)
    n_below = n_points - len(candidate_rows)
    count, n = vertices.shape
    n_stable = len(stable_rows)
    values = np.full(n_stable, np.nan)
    local = np.zeros((n_stable, n_points), dtype=np.bool_)
    admissible = np.zeros((n_stable, n_points), dtype=np.bool_)
    vertex = np.zeros(n_points, dtype=np.bool_)
    for f in range(count):
        for i in range(n):
            vertex[vertices[f, i]] = True
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    weights = np.empty(n)
    target = np.empty(n)
    for v in range(n_stable):
        row = stable_rows[v]
        removed = n_below + np.searchsorted(candidate_rows, row)
        has = np.zeros(count, dtype=np.bool_)
        for f in range(count):
            for i in range(n):
                if vertices[f, i] == removed:
                    has[f] = True
        for f in range(count):
            if has[f]:
                for i in range(n):
                    local[v, vertices[f, i]] = True
        for p in range(n_points):
            other = p < n_below or group[candidate_rows[p - n_below]] != group[row]
            if p >= n_below:
                c = p - n_below
                touches = has[facet[candidate_rows[c]]]
                if touches:
                    local[v, p] = True
                admissible[v, p] = other and (
                    vertex[p] or touches or e_above[candidate_rows[c]] <= on_hull_tol
                )
            else:
                admissible[v, p] = other
            local[v, p] = local[v, p] and other
        members = np.flatnonzero(local[v])
        k = len(members)
        if k < n or _comb(k, n) > max_subsets:
            continue
        for j in range(n - 1):
            target[j] = where[v, j]
        target[n - 1] = 1.0
        best_value, best_subset = np.inf, np.empty(n, dtype=np.int64)
        chosen = np.empty(n, dtype=np.int64)
        subset = np.arange(n)
        while True:
            for i in range(n):
                chosen[i] = members[subset[i]]
            _fill_matrix(coords, chosen, matrix)
            # barycentric weights of the target: w solves M^T w = t, so w = t @ inv(M)
            if abs(_invert(matrix, inverse)) > det_tol and _weights(target, inverse, weights) >= -bary_tol:
                value = 0.0
                for i in range(n):
                    value = value + weights[i] * energies[chosen[i]]
                if value < best_value:
                    best_value = value
                    best_subset[:] = chosen
            if not _next_subset(subset, k):
                break
        if not np.isfinite(best_value):
            continue
        plane = np.empty(n)
        _plane(coords, energies, best_subset, plane)
        supported = True
        for p in range(n_points):
            if admissible[v, p]:
                height = energies[p] - plane[n - 1]
                for j in range(n - 1):
                    height = height - plane[j] * coords[p, j]
                if height < -on_hull_tol:
                    supported = False
                    break
        if supported:
            values[v] = best_value
    return values, local, admissible


@njit(cache=True)
def _comb(k: int, n: int) -> int:
    total = 1
    for i in range(n):
        total = total * (k - i) // (i + 1)
    return total


@njit(cache=True)
def _next_subset(subset: np.ndarray, k: int) -> bool:
    """Advance ``subset`` (sorted indices into range(k)) to the next combination in lexicographic order."""
    n = len(subset)
    i = n - 1
    while i >= 0 and subset[i] == k - n + i:
        i -= 1
    if i < 0:
        return False
    subset[i] += 1
    for j in range(i + 1, n):
        subset[j] = subset[j - 1] + 1
    return True


@njit(cache=True)
def _fill_matrix(coords: np.ndarray, simplex: np.ndarray, matrix: np.ndarray) -> None:
    """matrix = the ``[x, 1]`` rows of the simplex's vertices."""
    n = len(simplex)
    for i in range(n):
        for j in range(n - 1):
            matrix[i, j] = coords[simplex[i], j]
        matrix[i, n - 1] = 1.0


@njit(cache=True)
def _plane(coords: np.ndarray, energies: np.ndarray, simplex: np.ndarray, out: np.ndarray) -> float:
    """out = the affine plane through the simplex (energy = out[:-1] . x + out[-1]); returns det [x, 1]."""
    n = len(simplex)
    return _plane_into(coords, energies, simplex, out, np.empty((n, n)), np.empty((n, n)))


@njit(cache=True)
def _height(point: int, coords: np.ndarray, energies: np.ndarray, plane: np.ndarray) -> float:
    """Energy of a point above a plane."""
    value = plane[len(plane) - 1]
    for j in range(len(plane) - 1):
        value = value + plane[j] * coords[point, j]
    return energies[point] - value


@njit(cache=True)
def inserted_simplices(
    coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, new_points: np.ndarray, det_tol: float
) -> np.ndarray:
    """Beneath-beyond insertion of ``new_points`` into the lower hull ``simplices``; see
    ``hull.engine_geometry.inserted_simplices``.

    Facets live in one growing table with an alive flag (no copies per point); a ridge of
    a visible facet is on the horizon when no other visible facet has all its vertices
    (a ridge of a triangulated hull has at most two facets).
    """
    n = coords.shape[1] + 1
    sorted_simplices = np.empty_like(simplices)
    known_planes = np.empty((len(simplices), n))
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    for f in range(len(simplices)):
        sorted_simplices[f] = np.sort(simplices[f])
        _plane_into(coords, energies, sorted_simplices[f], known_planes[f], matrix, inverse)
    return _inserted(coords, energies, sorted_simplices, known_planes, new_points, det_tol)


@njit(cache=True)
def _inserted(
    coords: np.ndarray,
    energies: np.ndarray,
    simplices: np.ndarray,
    known_planes: np.ndarray,
    new_points: np.ndarray,
    det_tol: float,
) -> np.ndarray:
    """``inserted_simplices`` over simplices (rows sorted) whose planes are known already."""
    n = coords.shape[1] + 1
    capacity = max(64, 4 * len(simplices))
    facets = np.empty((capacity, n), dtype=np.int64)
    planes = np.empty((capacity, n))
    alive = np.zeros(capacity, dtype=np.bool_)
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    count = len(simplices)
    for f in range(count):
        facets[f] = simplices[f]
        planes[f] = known_planes[f]
        alive[f] = True
    visible = np.empty(capacity, dtype=np.int64)
    simplex = np.empty(n, dtype=np.int64)
    for p in new_points:
        n_visible = 0
        for f in range(count):
            if alive[f] and _height(p, coords, energies, planes[f]) < 0.0:
                if n_visible == len(visible):
                    visible = np.concatenate((visible, np.empty(len(visible), dtype=np.int64)))
                visible[n_visible] = f
                n_visible += 1
        if n_visible == 0:
            continue
        for a in range(n_visible):
            fa = visible[a]
            for dropped in range(n):
                shared = False
                for b in range(n_visible):
                    if b != a and _has_ridge(facets[visible[b]], facets[fa], dropped):
                        shared = True
                        break
                if shared:
                    continue
                # the ridge (facet fa without vertex ``dropped``) joined to p, sorted
                c, placed = 0, False
                for i in range(n):
                    if i == dropped:
                        continue
                    if not placed and p < facets[fa, i]:
                        simplex[c] = p
                        c += 1
                        placed = True
                    simplex[c] = facets[fa, i]
                    c += 1
                if not placed:
                    simplex[c] = p
                if count == capacity:
                    capacity *= 2
                    facets = _grown(facets, capacity)
                    planes = _grown(planes, capacity)
                    grown_alive = np.zeros(capacity, dtype=np.bool_)
                    grown_alive[:count] = alive[:count]
                    alive = grown_alive
                det = _plane_into(coords, energies, simplex, planes[count], matrix, inverse)
                if abs(det) > det_tol:
                    facets[count] = simplex
                    alive[count] = True
                    count += 1
        for a in range(n_visible):
            alive[visible[a]] = False
    return facets[:count][alive[:count]]


@njit(cache=True)
def _has_ridge(facet: np.ndarray, of: np.ndarray, dropped: int) -> bool:
    """Whether ``facet`` has every vertex of ``of`` but the one at position ``dropped``."""
    n = len(of)
    for i in range(n):
        if i == dropped:
            continue
        found = False
        for j in range(n):
            if facet[j] == of[i]:
                found = True
                break
        if not found:
            return False
    return True


@njit(cache=True)
def _grown(table: np.ndarray, capacity: int) -> np.ndarray:
    grown = np.empty((capacity, table.shape[1]), dtype=table.dtype)
    grown[: len(table)] = table
    return grown


@njit(cache=True)
def _plane_into(
    coords: np.ndarray,
    energies: np.ndarray,
    simplex: np.ndarray,
    out: np.ndarray,
    matrix: np.ndarray,
    inverse: np.ndarray,
) -> float:
    """``_plane`` with caller-owned scratch matrices."""
    n = len(simplex)
    _fill_matrix(coords, simplex, matrix)
    det = _invert(matrix, inverse)
    for i in range(n):
        value = 0.0
        for j in range(n):
            value = value + inverse[i, j] * energies[simplex[j]]
        out[i] = value
    return det


@njit(cache=True)
def is_lower_hull(
    coords: np.ndarray, energies: np.ndarray, vertices: np.ndarray, planes: np.ndarray, margin: float
) -> bool:
    """Whether facets provably are the unique lower hull; see ``hull.engine_geometry.is_lower_hull``."""
    count, n = vertices.shape
    matrix = np.empty((n, n))
    inverse = np.empty((n, n))
    covered = 0.0
    for f in range(count):
        _fill_matrix(coords, vertices[f], matrix)
        covered += abs(_invert(matrix, inverse))
    return _is_lower_hull(coords, energies, vertices, planes, covered, margin)


@njit(cache=True)
def _is_lower_hull(
    coords: np.ndarray,
    energies: np.ndarray,
    vertices: np.ndarray,
    planes: np.ndarray,
    covered: float,
    margin: float,
) -> bool:
    """``is_lower_hull`` given the summed ``|det [x, 1]|`` of the facets (1 when they cover the simplex)."""
    count, n = vertices.shape
    if count == 0 or not abs(covered - 1.0) < 1e-9:
        return False
    is_vertex = np.zeros(len(energies), dtype=np.bool_)
    for f in range(count):
        for i in range(n):
            is_vertex[vertices[f, i]] = True
        for p in range(len(energies)):
            if not is_vertex[p] and not _height(p, coords, energies, planes[f]) > margin:
                return False
        for i in range(n):
            is_vertex[vertices[f, i]] = False
    return True


@njit(cache=True)
def positions(wanted: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Index of each wanted key in ``keys`` (unique), -1 where it is not there (any shape of ``wanted``)."""
    flat = wanted.ravel()
    out = np.full(len(flat), -1, dtype=np.int64)
    if len(keys):
        order = np.argsort(keys, kind="mergesort")
        ordered = keys[order]
        at = np.searchsorted(ordered, flat)
        for i in range(len(flat)):
            if at[i] < len(keys) and ordered[at[i]] == flat[i]:
                out[i] = order[at[i]]
    return out.reshape(wanted.shape)


@njit(cache=True)
def updated_hull(
    old_keys: np.ndarray,
    old_coords: np.ndarray,
    old_energies: np.ndarray,
    old_simplices: np.ndarray,
    old_planes: np.ndarray,
    keys: np.ndarray,
    coords: np.ndarray,
    energies: np.ndarray,
    det_tol: float,
    margin: float,
):
    """An earlier hull brought up to date over the current points, if provably their lower hull.

    The current points that the earlier ones lack are inserted (``inserted_simplices``) into
    the earlier simplices; the facets are mapped to the current points (an earlier vertex
    that is gone and was not cut off voids the result), put in canonical order, and proved
    (``is_lower_hull``). Returns (ok, vertices, inverse, planes, facet_energies).
    """
    joined = np.flatnonzero(positions(keys, old_keys) < 0)
    n_old = len(old_keys)
    work_keys = np.concatenate((old_keys, keys[joined]))
    work_coords = np.concatenate((old_coords, coords[joined]))
    work_energies = np.concatenate((old_energies, energies[joined]))
    # the earlier simplices are canonical (rows sorted) and their planes were computed from
    # the same points: the insertion starts from them as they are
    facets = _inserted(
        work_coords, work_energies, old_simplices, old_planes, np.arange(n_old, len(work_keys)), det_tol
    )
    simplices = positions(work_keys[facets.ravel()].reshape(facets.shape), keys)
    if (simplices < 0).any():
        simplices = simplices[:0]  # an earlier vertex is gone: no hull to prove
    return _proved_hull(coords, energies, simplices, margin)


@njit(cache=True)
def _proved_hull(coords: np.ndarray, energies: np.ndarray, simplices: np.ndarray, margin: float):
    """(ok, vertices, inverse, planes, facet_energies) of the simplices in canonical order, ok
    only when ``is_lower_hull`` proves them the lower hull (empty arrays otherwise)."""
    n = coords.shape[1] + 1
    if len(simplices):
        vertices, inverse, planes, facet_energies, dets = _facet_algebra(
            coords, energies, canonical_rows(simplices), np.zeros(0), -1.0
        )
        covered = 0.0
        for f in range(len(dets)):
            covered += dets[f]
        if _is_lower_hull(coords, energies, vertices, planes, covered, margin):
            return True, vertices, inverse, planes, facet_energies
    return False, np.zeros((0, n), dtype=np.int64), np.zeros((0, n, n)), np.zeros((0, n)), np.zeros((0, n))


@njit(cache=True)
def fresh_hull(
    fractions: np.ndarray, coords: np.ndarray, energies: np.ndarray, det_tol: float, margin: float
):
    """The lower hull of a system's points built by insertion from its elemental corners, if provably right.

    The corners (the points whose fractions are a unit vector, formation energy 0) span one
    facet over the whole composition simplex; every other point is inserted into it
    (``inserted_simplices``), lowest energy first, so that later points mostly lie above
    the hull already and cost one plane test per facet. The canonical result is proved
    (``is_lower_hull``), as for an updated hull; without one corner per element, or
    without a proof, it returns ok False and the caller runs qhull. Returns (ok, vertices,
    inverse, planes, facet_energies).
    """
    m, n = fractions.shape
    corner = np.full(n, -1, dtype=np.int64)
    is_corner = np.zeros(m, dtype=np.bool_)
    for p in range(m):
        unit = -1
        for c in range(n):
            if fractions[p, c] == 1.0 and unit < 0:
                unit = c
            elif fractions[p, c] != 0.0:
                unit = -2
                break
        if unit >= 0 and corner[unit] < 0 and energies[p] == 0.0:
            corner[unit] = p
            is_corner[p] = True
    if (corner < 0).any():
        return _proved_hull(coords, energies, np.zeros((0, n), dtype=np.int64), margin)
    start = np.sort(corner).reshape(1, n)
    order = np.argsort(energies, kind="mergesort")
    others = np.empty(m - n, dtype=np.int64)
    k = 0
    for p in order:
        if not is_corner[p]:
            others[k] = p
            k += 1
    return _proved_hull(
        coords, energies, inserted_simplices(coords, energies, start, others[:k], det_tol), margin
    )


@njit(cache=True)
def system_thermo(
    vertices: np.ndarray,
    inverse: np.ndarray,
    planes: np.ndarray,
    facet_energies: np.ndarray,
    keys: np.ndarray,
    candidate_rows: np.ndarray,
    coords: np.ndarray,
    point_energy: np.ndarray,
    own_fractions: np.ndarray,
    formation: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
):
    """Everything a system's own entries need from its lower hull, in one call.

    Stable rows (own candidates that are hull vertices), each row's stable polymorph (-1:
    none), the facet vertex keys and barycentric amounts of each row's decomposition, the
    energies above hull, the GNoME decomposition energies (``separations``; where they
    could not be decided, ``values`` is NaN and the caller completes them with the
    ``local``/``admissible`` masks and ``where``), the canonical facets as keys and the
    sorted stable keys. Returns (stable_rows, stable_of_row, decomposition_keys, bary,
    e_above, gnome, values, local, admissible, where, sorted_facets, stable_keys).
    """
    m, n = own_fractions.shape
    n_points = len(keys)
    n_below = n_points - len(candidate_rows)
    vertex = np.zeros(n_points, dtype=np.bool_)
    for f in range(vertices.shape[0]):
        for i in range(n):
            vertex[vertices[f, i]] = True
    n_stable = 0
    for c in range(len(candidate_rows)):
        if vertex[n_below + c]:
            n_stable += 1
    stable_rows = np.empty(n_stable, dtype=np.int64)
    k = 0
    for c in range(len(candidate_rows)):
        if vertex[n_below + c]:
            stable_rows[k] = candidate_rows[c]
            k += 1
    stable_group = np.full(n_groups, -1, dtype=np.int64)
    for v in range(n_stable):
        stable_group[group[stable_rows[v]]] = stable_rows[v]
    own_coords = np.empty((m, n - 1))
    for r in range(m):
        for j in range(n - 1):
            own_coords[r, j] = own_fractions[r, j + 1]
    facet, bary, hull_energy = locate_rows(planes, inverse, facet_energies, own_coords, bary_tol)
    stable_of_row = np.empty(m, dtype=np.int64)
    e_above = np.empty(m)
    for r in range(m):
        stable_of_row[r] = stable_group[group[r]]
        if stable_of_row[r] >= 0:
            hull_energy[r] = formation[stable_of_row[r]]
        above = formation[r] - hull_energy[r]
        e_above[r] = above if above > 0.0 else 0.0
    gnome = e_above.copy()
    where = np.empty((n_stable, n - 1))
    for v in range(n_stable):
        for j in range(n - 1):
            where[v, j] = own_fractions[stable_rows[v], j + 1]
    if n_stable:
        values, local, admissible = separations(
            group,
            candidate_rows,
            coords,
            point_energy,
            vertices,
            facet,
            e_above,
            stable_rows,
            where,
            max_subsets,
            det_tol,
            bary_tol,
            on_hull_tol,
        )
        for v in range(n_stable):
            if not np.isnan(values[v]):
                g = group[stable_rows[v]]
                for r in range(m):
                    if group[r] == g:
                        gnome[r] = formation[r] - values[v]
    else:
        values = np.zeros(0)
        local = np.zeros((0, n_points), dtype=np.bool_)
        admissible = np.zeros((0, n_points), dtype=np.bool_)
    for v in range(n_stable):
        e_above[stable_rows[v]] = 0.0
    facet_keys = np.empty(vertices.shape, dtype=np.int64)
    for f in range(vertices.shape[0]):
        for i in range(n):
            facet_keys[f, i] = keys[vertices[f, i]]
    decomposition_keys = np.empty((m, n), dtype=np.int64)
    for r in range(m):
        decomposition_keys[r] = facet_keys[facet[r]]
    stable_keys = np.sort(keys[vertex])
    return (
        stable_rows,
        stable_of_row,
        decomposition_keys,
        bary,
        e_above,
        gnome,
        values,
        local,
        admissible,
        where,
        canonical_rows(facet_keys),
        stable_keys,
    )


@njit(cache=True)
def composition_groups(fractions: np.ndarray, decimals: int):
    """Group rows whose atom fractions agree after rounding to ``decimals``: (label of each row, count).

    Labels are numbered in order of first appearance. Rows are sorted on their rounded
    fractions (stable, column by column) and runs of equal rows share a group, so large
    systems cost m log m, not m squared.
    """
    m, n = fractions.shape
    rounded = np.empty((m, n))
    for i in range(m):
        for c in range(n):
            rounded[i, c] = np.round(fractions[i, c], decimals)
    order = np.arange(m)
    for c in range(n - 1, -1, -1):
        order = order[np.argsort(rounded[order, c], kind="mergesort")]
    run = np.empty(m, dtype=np.int64)  # run index of each row, runs in sorted order
    first = np.empty(m, dtype=np.int64)  # first (smallest) row of each run
    n_runs = 0
    for s in range(m):
        i = order[s]
        same = s > 0
        if same:
            previous = order[s - 1]
            for c in range(n):
                if rounded[i, c] != rounded[previous, c]:
                    same = False
                    break
        if not same:
            first[n_runs] = i
            n_runs += 1
        run[i] = n_runs - 1
        if i < first[n_runs - 1]:
            first[n_runs - 1] = i
    label_of_run = np.empty(n_runs, dtype=np.int64)
    runs_by_first = np.argsort(first[:n_runs], kind="mergesort")
    for label in range(n_runs):
        label_of_run[runs_by_first[label]] = label
    labels = np.empty(m, dtype=np.int64)
    for i in range(m):
        labels[i] = label_of_run[run[i]]
    return labels, n_runs


@njit(cache=True)
def row_table(
    keys: np.ndarray,
    stable_of_row: np.ndarray,
    decomposition_keys: np.ndarray,
    formation: np.ndarray,
    e_above: np.ndarray,
    gnome: np.ndarray,
    bary: np.ndarray,
):
    """A system's thermo rows as two arrays (``RowTable``): ints = [stable polymorph's key or -1,
    decomposition vertex keys], floats = [formation, energy above hull, GNoME energy, amounts]."""
    m, n = decomposition_keys.shape
    ints = np.empty((m, n + 1), dtype=np.int64)
    floats = np.empty((m, n + 3))
    for r in range(m):
        s = stable_of_row[r]
        ints[r, 0] = keys[s] if s >= 0 else -1
        floats[r, 0] = formation[r]
        floats[r, 1] = e_above[r]
        floats[r, 2] = gnome[r]
        for c in range(n):
            ints[r, 1 + c] = decomposition_keys[r, c]
            floats[r, 3 + c] = bary[r, c]
    return ints, floats


@njit(cache=True)
def changed_rows(
    keys: np.ndarray,
    ints: np.ndarray,
    floats: np.ndarray,
    old_keys: np.ndarray,
    old_ints: np.ndarray,
    old_floats: np.ndarray,
) -> np.ndarray:
    """Rows (keys ascending) that are new or differ in any bit from the earlier row of the same key
    (earlier keys ascending too); a different width counts every row as changed. NaN differs."""
    m = len(keys)
    changed = np.empty(m, dtype=np.int64)
    k = 0
    j = 0
    same_width = ints.shape[1] == old_ints.shape[1] and floats.shape[1] == old_floats.shape[1]
    for r in range(m):
        while j < len(old_keys) and old_keys[j] < keys[r]:
            j += 1
        same = same_width and j < len(old_keys) and old_keys[j] == keys[r]
        if same:
            for c in range(ints.shape[1]):
                if ints[r, c] != old_ints[j, c]:
                    same = False
                    break
        if same:
            for c in range(floats.shape[1]):
                if floats[r, c] != old_floats[j, c]:  # NaN differs
                    same = False
                    break
        if not same:
            changed[k] = r
            k += 1
    return changed[:k]


@njit(cache=True)
def hull_of_system(
    fractions: np.ndarray,
    energies: np.ndarray,
    keys: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    refs: np.ndarray,
    below_keys: np.ndarray,
    below_block: np.ndarray,
    codes: np.ndarray,
    old_keys: np.ndarray,
    old_coords: np.ndarray,
    old_energies: np.ndarray,
    old_simplices: np.ndarray,
    old_planes: np.ndarray,
    formation_tol: float,
    det_tol: float,
    margin: float,
):
    """``system_points``, then the earlier hull brought up to date (``updated_hull``, where
    ``old_simplices`` is not empty) or else the hull by insertion from the corners
    (``fresh_hull``), in one call. Returns (formation, candidate_rows, point_fractions,
    point_coords, point_energies, point_keys, how, vertices, inverse, planes, facet_energies);
    how: 1 the earlier hull updated, 2 the hull by insertion, 0 neither proved (the caller runs
    qhull on the points)."""
    formation, candidate_rows, points, point_energies, point_keys = system_points(
        fractions, energies, keys, group, n_groups, refs, below_keys, below_block, codes, formation_tol
    )
    coords = np.ascontiguousarray(points[:, 1:])
    how = 2
    if len(old_simplices):
        hull = updated_hull(
            old_keys,
            old_coords,
            old_energies,
            old_simplices,
            old_planes,
            point_keys,
            coords,
            point_energies,
            det_tol,
            margin,
        )
        how = 1
        if not hull[0]:
            hull = fresh_hull(points, coords, point_energies, det_tol, margin)
            how = 2
    else:
        hull = fresh_hull(points, coords, point_energies, det_tol, margin)
    ok, vertices, inverse, planes, facet_energies = hull
    return (
        formation,
        candidate_rows,
        points,
        coords,
        point_energies,
        point_keys,
        how if ok else 0,
        vertices,
        inverse,
        planes,
        facet_energies,
    )


@njit(cache=True)
def thermo_rows(
    vertices: np.ndarray,
    inverse: np.ndarray,
    planes: np.ndarray,
    facet_energies: np.ndarray,
    keys: np.ndarray,
    candidate_rows: np.ndarray,
    coords: np.ndarray,
    point_energy: np.ndarray,
    own_fractions: np.ndarray,
    own_keys: np.ndarray,
    formation: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    earlier_keys: np.ndarray,
    earlier_ints: np.ndarray,
    earlier_floats: np.ndarray,
    max_subsets: int,
    det_tol: float,
    bary_tol: float,
    on_hull_tol: float,
):
    """``system_thermo``, then (when every GNoME energy was decided) ``row_table`` and the rows that
    changed since the ``earlier`` table (``changed_rows``; every row where it is empty), in one call.
    Returns ``system_thermo``'s 12 arrays, then (complete, ints, floats, changed); complete False:
    some ``values`` are NaN, the caller completes them and makes the table itself."""
    out = system_thermo(
        vertices,
        inverse,
        planes,
        facet_energies,
        keys,
        candidate_rows,
        coords,
        point_energy,
        own_fractions,
        formation,
        group,
        n_groups,
        max_subsets,
        det_tol,
        bary_tol,
        on_hull_tol,
    )
    _, stable_of_row, decomposition_keys, bary, e_above, gnome, values = out[:7]
    n = own_fractions.shape[1]
    complete = not np.isnan(values).any()
    if complete:
        ints, floats = row_table(own_keys, stable_of_row, decomposition_keys, formation, e_above, gnome, bary)
        changed = changed_rows(own_keys, ints, floats, earlier_keys, earlier_ints, earlier_floats)
    else:
        ints, floats = np.zeros((0, n + 1), dtype=np.int64), np.zeros((0, n + 3))
        changed = np.zeros(0, dtype=np.int64)
    return out + (complete, ints, floats, changed)
