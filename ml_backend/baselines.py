"""Linear per-element baseline: least squares of the target on element fractions.

The reference point for the quality bars (the GNoME models must do much better than a model that
only knows the composition linearly)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from pymatgen.core import Composition

from ml_backend.data import Sample
from ml_backend.graphs import NUM_SPECIES


def element_fractions(composition: Composition) -> np.ndarray:
    """Vector of atomic fractions indexed by Z-1."""
    vec = np.zeros(NUM_SPECIES)
    for el, frac in composition.fractional_composition.items():
        vec[el.Z - 1] = frac
    return vec


@dataclasses.dataclass
class LinearElementBaseline:
    """``target ~ sum_el x_el * w_el + b`` fitted by least squares (minimum-norm solution)."""

    weights: np.ndarray | None = None

    def fit(self, samples: Sequence[Sample]) -> LinearElementBaseline:
        x = self._design([s.structure.composition for s in samples])
        y = np.array([s.target for s in samples])
        self.weights, *_ = np.linalg.lstsq(x, y, rcond=None)
        return self

    def predict(self, compositions: Sequence[Composition]) -> np.ndarray:
        if self.weights is None:
            raise RuntimeError("fit the baseline first")
        return self._design(compositions) @ self.weights

    def mae(self, samples: Sequence[Sample]) -> float:
        pred = self.predict([s.structure.composition for s in samples])
        return float(np.mean(np.abs(pred - np.array([s.target for s in samples]))))

    @staticmethod
    def _design(compositions: Sequence[Composition]) -> np.ndarray:
        x = np.stack([element_fractions(c) for c in compositions])
        return np.hstack([x, np.ones((len(x), 1))])
