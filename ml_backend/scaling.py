"""Data-scaling experiment (Merchant et al. 2023, Fig. 1e: test error falls as a power law of the
training-set size). Train on growing subsets, measure test MAE, fit ``MAE = a * N**b`` by a
linear least-squares fit in log-log space."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ml_backend.configs.base import Config
from ml_backend.data import Sample
from ml_backend.train import evaluate_mae, graphs_for_samples, train_model


@dataclasses.dataclass
class PowerLawFit:
    """``mae = prefactor * n ** exponent`` (exponent < 0 when more data helps)."""

    prefactor: float
    exponent: float
    r_squared: float

    def __call__(self, n: np.ndarray | float) -> np.ndarray:
        return self.prefactor * np.asarray(n, dtype=float) ** self.exponent

    def __str__(self) -> str:
        return f"MAE = {self.prefactor:.4g} * N^({self.exponent:.3f})  (R^2 = {self.r_squared:.3f})"


@dataclasses.dataclass
class ScalingResult:
    sizes: list[int]
    test_mae: list[float]
    fit: PowerLawFit
    config_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "sizes": self.sizes,
            "test_mae": self.test_mae,
            "fit": dataclasses.asdict(self.fit),
            "config_name": self.config_name,
        }


def fit_power_law(sizes: Sequence[float], maes: Sequence[float]) -> PowerLawFit:
    """Least-squares line through ``(log N, log MAE)``."""
    x, y = np.log(np.asarray(sizes, float)), np.log(np.asarray(maes, float))
    if len(x) < 2:
        raise ValueError("need at least two points to fit a power law")
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    total = np.sum((y - y.mean()) ** 2)
    r_squared = float(1 - np.sum(residual**2) / total) if total > 0 else 1.0
    return PowerLawFit(prefactor=float(np.exp(intercept)), exponent=float(slope), r_squared=r_squared)


def run_scaling_experiment(
    config: Config,
    train_samples: Sequence[Sample],
    test_samples: Sequence[Sample],
    fractions: Sequence[float] = (0.125, 0.25, 0.5, 1.0),
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> ScalingResult:
    """Train one model per nested random subset of ``train_samples`` and measure test MAE.

    Subsets are nested (prefixes of one seeded permutation) so larger sets contain smaller ones.
    ``progress(size, mae)`` is called after each subset.
    """
    order = np.random.default_rng(seed).permutation(len(train_samples))
    graphs = graphs_for_samples(config, train_samples)
    sizes, maes = [], []
    for fraction in sorted(fractions):
        size = max(2, int(round(fraction * len(train_samples))))
        chosen = order[:size]
        trained = train_model(
            config, [train_samples[i] for i in chosen], train_graphs=[graphs[i] for i in chosen]
        )
        mae = evaluate_mae(trained, test_samples)
        sizes.append(size)
        maes.append(mae)
        if progress is not None:
            progress(size, mae)
    return ScalingResult(sizes=sizes, test_mae=maes, fit=fit_power_law(sizes, maes), config_name=config.name)


def scaling_figure(result: ScalingResult):
    """Plotly log-log figure of test MAE against training size with the fitted power law.

    ``fig.write_html(path)`` or ``fig.to_json()`` to save; plotly is imported only here.
    """
    import plotly.graph_objects as go

    grid = np.geomspace(min(result.sizes), max(result.sizes), 50)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=result.sizes, y=result.test_mae, mode="markers", name="test MAE"))
    fig.add_trace(go.Scatter(x=grid, y=result.fit(grid), mode="lines", name=str(result.fit)))
    fig.update_layout(
        title=f"Data scaling ({result.config_name})",
        xaxis={"title": "training structures", "type": "log"},
        yaxis={"title": "test MAE (eV/atom)", "type": "log"},
    )
    return fig
