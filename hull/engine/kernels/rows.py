"""A system's thermo as a table of rows in compiled kernels, and the rows that changed since an earlier table.

An entry's ``EntryThermo`` is a function of its row, so an update whose row is bit-equal to the earlier one
keeps the earlier object and rebuilds only the rows that changed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


class RowTable(NamedTuple):
    """Every number of a system's own entries' thermo, row by row in key order (``row_table``).

    ``ints``: the key of the row's stable polymorph (-1: none) and its decomposition's
    vertex keys; ``floats``: formation energy, energy above hull, decomposition energy and
    the decomposition's amounts.
    """

    keys: np.ndarray
    ints: np.ndarray
    floats: np.ndarray

    def changed(self, earlier: RowTable) -> np.ndarray:
        """Rows that are new or differ from ``earlier``'s row of the same key in any bit."""
        return changed_rows(self, earlier)


@njit(cache=True)
def row_table(
    keys: np.ndarray,
    stable_of_row: np.ndarray,
    decomposition_keys: np.ndarray,
    formation: np.ndarray,
    e_above: np.ndarray,
    gnome: np.ndarray,
    bary: np.ndarray,
) -> RowTable:
    """A system's thermo rows as two arrays: ints = [stable polymorph's key or -1, decomposition vertex
    keys], floats = [formation, energy above hull, GNoME energy, amounts]."""
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
    return RowTable(keys, ints, floats)


@njit(cache=True)
def changed_rows(table: RowTable, earlier: RowTable) -> np.ndarray:
    """Rows (keys ascending) that are new or differ in any bit from the earlier row of the same key
    (earlier keys ascending too); a different width counts every row as changed. NaN differs."""
    keys, ints, floats = table
    old_keys, old_ints, old_floats = earlier
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
