"""A chemical system's hull input in compiled kernels: formation energies, polymorph groups, candidates,
and the subsystems' stable points placed in the system's own columns.

``PAD`` is the width to which stable points are stored padded for embedding in supersets
(``StablePoints.block``); systems of more elements are padded to their own width.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

PAD = 8


class SystemRows(NamedTuple):
    """A system's own entries as the kernels take them, rows sorted by key."""

    fractions: np.ndarray  # (m, n) atom fractions
    energies: np.ndarray  # (m,) eV/atom
    keys: np.ndarray  # (m,) int64
    group: np.ndarray  # (m,) int64: rows of equal reduced composition share a group
    n_groups: int


class BelowPoints(NamedTuple):
    """The stable points of a system's proper subsystems: keys and ``StablePoints.block`` rows."""

    keys: np.ndarray
    block: np.ndarray


class SystemPoints(NamedTuple):
    """The own rows' formation energies and candidates, and the points a system's hull is built from:
    the subsystems' stable points, then the candidates."""

    formation: np.ndarray  # (m,) formation energy of each own row
    candidate_rows: np.ndarray  # own rows that enter the hull
    fractions: np.ndarray  # (p, n) atom fractions of the points
    coords: np.ndarray  # (p, n - 1) the fractions but the first (the hull's compositions)
    energies: np.ndarray  # (p,) formation energies of the points
    keys: np.ndarray  # (p,) their keys


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
    rows: SystemRows, refs: np.ndarray, below: BelowPoints, codes: np.ndarray, formation_tol: float
) -> SystemPoints:
    """Formation energies, candidate rows and the hull's input points of one system.

    Rows are sorted by key, so the first of equal-energy polymorphs is the smallest key.
    ``below.block`` holds the subsystems' stable points (``StablePoints.block``: formation
    energy, fractions in their own columns, their element codes); each is placed in the
    column of this system (element codes ``codes``) that carries its element.
    """
    fractions, energies, keys, group, n_groups = rows
    below_keys, below_block = below
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
    coords = np.ascontiguousarray(points[:, 1:])
    return SystemPoints(formation, candidate_rows, points, coords, point_energies, point_keys)


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
