"""Inference with static shapes: one compiled program per budget, reused across calls."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from typing import Any

import jax
import jraph
import numpy as np
from pymatgen.core import Composition, Structure

from ml_backend.configs.base import Config, ModelConfig
from ml_backend.graphs import build_graphs, composition_to_graph, graph_for_kind
from ml_backend.input_pipeline import Budget, PaddingStats, budget_ladder, extend_ladder, iterate_batches
from ml_backend.models import Normalisation, create_model, normalisation_variables

# Traces (= XLA compilations) of the shared forward pass, per model config.
TRACE_COUNTS: dict[ModelConfig, int] = {}


@functools.lru_cache(maxsize=16)
def jitted_forward(model_config: ModelConfig):
    """One jitted forward pass per model config, shared by every model (and ensemble member) of
    that config: weights and normalisation statistics are arguments, not constants."""
    model = create_model(model_config)

    def forward(params, normalisation, graphs):
        TRACE_COUNTS[model_config] = TRACE_COUNTS.get(model_config, 0) + 1  # runs only while tracing
        return model.apply({"params": params, "normalisation": normalisation}, graphs)

    return jax.jit(forward)


@dataclasses.dataclass
class TrainedModel:
    """Everything needed to predict and to resume: weights plus what they were trained with."""

    config: Config
    params: Any
    normalisation: Normalisation
    ladder: list[Budget]
    fingerprint: str = ""
    epoch: int = 0
    history: list[dict[str, float]] = dataclasses.field(default_factory=list)
    opt_state: Any = None
    step: int = 0


class Predictor:
    """Batched, padded inference with one trained model.

    Batches are padded to the model's budget ladder (stored in its checkpoint), so a long run
    compiles at most once per budget; ``trace_count`` reports compilations of this config.
    """

    def __init__(self, trained: TrainedModel, inference_batch_size: int | None = None):
        self.trained = trained
        self.ladder = list(trained.ladder)
        self.batch_size = inference_batch_size
        self.padding = PaddingStats()
        self._forward = jitted_forward(trained.config.model)
        self._normalisation = normalisation_variables(trained.normalisation)

    @property
    def trace_count(self) -> int:
        return TRACE_COUNTS.get(self.trained.config.model, 0)

    def predict_graphs(self, graphs: Sequence[jraph.GraphsTuple]) -> np.ndarray:
        """Energy per atom (eV/atom) for each graph, in input order."""
        if not graphs:
            return np.zeros(0, dtype=np.float32)
        ladder = self.ladder
        if self.batch_size is not None:
            ladder = budget_ladder(graphs, self.batch_size)
        for graph in graphs:
            ladder = extend_ladder(ladder, graph)
        self.ladder = ladder if self.batch_size is None else self.ladder
        out = np.zeros(len(graphs), dtype=np.float32)
        for batch in iterate_batches(graphs, ladder, stats=self.padding):
            pred = np.asarray(self._forward(self.trained.params, self._normalisation, batch.graphs))
            out[batch.indices] = pred[: len(batch.indices)]
        return out

    def graph(self, item: Structure | Composition | str) -> jraph.GraphsTuple:
        return graph_for_kind(self.trained.config.model.kind, item, self.trained.config.model.cutoff)

    def predict(self, items: Sequence[Structure | Composition | str]) -> np.ndarray:
        """Structures for the structural model; compositions (or structures) for the compositional one."""
        if self.trained.config.model.kind == "structural":
            graphs = build_graphs(list(items), cutoff=self.trained.config.model.cutoff)
        else:
            graphs = [self.graph(item) for item in items]
        return self.predict_graphs(graphs)


def predict_structures(trained: TrainedModel, structures: Sequence[Structure]) -> np.ndarray:
    """Formation energy per atom (eV/atom) of each structure with a structural model."""
    if trained.config.model.kind != "structural":
        raise ValueError("predict_structures needs a structural model")
    return Predictor(trained).predict(structures)


def predict_compositions(trained: TrainedModel, compositions: Sequence[Composition | str]) -> np.ndarray:
    """Formation energy per atom (eV/atom) of each composition with a compositional model."""
    if trained.config.model.kind != "compositional":
        raise ValueError("predict_compositions needs a compositional model")
    return Predictor(trained).predict_graphs([composition_to_graph(c) for c in compositions])
