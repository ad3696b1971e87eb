"""Ensembles and test-time augmentation (Merchant et al. 2023, Methods: "the filter").

- Ensemble: ``n`` models trained from different seeds; the prediction is the median over models
  and the uncertainty their interquartile range (robust to one diverging member).
- Test-time augmentation: each structure is scaled isotropically to ``num_volumes`` volumes from
  80% to 120% of its input volume (the paper uses 20), graphs are rebuilt at every volume (so the
  cutoff keeps its meaning), and each model takes the minimum predicted energy over volumes, a
  cheap stand-in for relaxing the volume.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pymatgen.core import Composition, Structure

from ml_backend.checkpoints import load_checkpoint, save_checkpoint
from ml_backend.configs.base import Config
from ml_backend.data import Sample
from ml_backend.graphs import build_graphs, composition_to_graph
from ml_backend.predict import Predictor, TrainedModel
from ml_backend.train import ProgressCallback, graphs_for_samples, train_model

PAPER_MEMBERS = 10  # models in the paper's ensembles
PAPER_VOLUMES = 20  # test-time volumes of the paper's filter, from 80% to 120% of the input volume


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Isotropic volume scan; ``num_volumes == 1`` (or ``enabled=False``) predicts the input as is."""

    num_volumes: int = PAPER_VOLUMES
    min_volume_fraction: float = 0.8
    max_volume_fraction: float = 1.2
    enabled: bool = True

    def volume_fractions(self) -> np.ndarray:
        if not self.enabled or self.num_volumes <= 1:
            return np.array([1.0])
        return np.linspace(self.min_volume_fraction, self.max_volume_fraction, self.num_volumes)


NO_AUGMENTATION = Augmentation(num_volumes=1, enabled=False)


@dataclasses.dataclass
class EnsemblePrediction:
    """Median and interquartile range over models (eV/atom), with the per-model values."""

    median: np.ndarray  # [n_structures]
    iqr: np.ndarray  # [n_structures]
    per_model: np.ndarray  # [n_models, n_structures], after the minimum over volumes
    best_volume_fraction: np.ndarray  # [n_structures], at the median model's minimum


def median_and_iqr(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Median and interquartile range (75th - 25th percentile, linear interpolation)."""
    values = np.asarray(values, dtype=np.float64)
    q25, q50, q75 = np.percentile(values, [25, 50, 75], axis=axis)
    return q50, q75 - q25


def scaled_structures(structure: Structure, volume_fractions: Sequence[float]) -> list[Structure]:
    """Copies of ``structure`` scaled isotropically to each fraction of its volume."""
    copies = []
    for fraction in volume_fractions:
        copy = structure.copy()
        if fraction != 1.0:
            copy.scale_lattice(structure.volume * float(fraction))
        copies.append(copy)
    return copies


class Ensemble:
    """Several trained models of one kind, predicting together."""

    def __init__(self, members: Sequence[TrainedModel]):
        if not members:
            raise ValueError("an ensemble needs at least one model")
        kinds = {m.config.model.kind for m in members}
        if len(kinds) != 1:
            raise ValueError(f"members mix model kinds: {kinds}")
        self.members = list(members)
        self.kind = kinds.pop()
        self.predictors = [Predictor(m) for m in self.members]

    def first(self, n: int) -> Ensemble:
        """An ensemble of this one's first ``n`` members; ``ValueError`` when it has fewer."""
        if not 1 <= n <= len(self.members):
            raise ValueError(f"asked for {n} members of an ensemble of {len(self.members)}")
        return self if n == len(self.members) else Ensemble(self.members[:n])

    @property
    def cutoff(self) -> float:
        return self.members[0].config.model.cutoff

    def predict_structures(
        self, structures: Sequence[Structure], augmentation: Augmentation = Augmentation()
    ) -> EnsemblePrediction:
        """Energy per atom of each structure: median over models of the minimum over volumes."""
        if self.kind != "structural":
            raise ValueError("predict_structures needs structural models")
        fractions = augmentation.volume_fractions()
        scaled = [copy for s in structures for copy in scaled_structures(s, fractions)]
        graphs = build_graphs(scaled, cutoff=self.cutoff)
        k = len(fractions)
        per_volume = np.stack([p.predict_graphs(graphs).reshape(len(structures), k) for p in self.predictors])
        per_model = per_volume.min(axis=2)
        median, iqr = median_and_iqr(per_model, axis=0)
        middle = np.argsort(per_model, axis=0)[len(self.members) // 2]
        best = fractions[per_volume[middle, np.arange(len(structures))].argmin(axis=1)]
        return EnsemblePrediction(median, iqr, per_model, best)

    def predict_compositions(self, compositions: Sequence[Composition | str]) -> EnsemblePrediction:
        """Energy per atom of each composition with compositional models (no augmentation)."""
        if self.kind != "compositional":
            raise ValueError("predict_compositions needs compositional models")
        graphs = [composition_to_graph(c) for c in compositions]
        per_model = np.stack([p.predict_graphs(graphs) for p in self.predictors])
        median, iqr = median_and_iqr(per_model, axis=0)
        return EnsemblePrediction(median, iqr, per_model, np.ones(len(compositions)))

    def save(self, directory: str | Path) -> list[Path]:
        """One checkpoint per member: ``member_<i>.msgpack``."""
        directory = Path(directory)
        return [save_checkpoint(directory / f"member_{i}.msgpack", m) for i, m in enumerate(self.members)]

    @classmethod
    def load(cls, directory: str | Path) -> Ensemble:
        paths = sorted(Path(directory).glob("member_*.msgpack"), key=lambda p: int(p.stem.split("_")[1]))
        return cls([load_checkpoint(p) for p in paths])


def train_ensemble(
    config: Config,
    train_samples: Sequence[Sample],
    eval_samples: Sequence[Sample] | None = None,
    *,
    num_models: int = 4,
    seeds: Sequence[int] | None = None,
    progress: Callable[[int, object], None] | None = None,
    checkpoint_dir: str | Path | None = None,
    warm_start: Sequence[TrainedModel] | None = None,
) -> Ensemble:
    """Train ``num_models`` members that differ only in their seed (init and shuffling).

    ``progress(member_index, Progress)`` is called after every epoch of every member. With
    ``checkpoint_dir`` each member is checkpointed (and resumed) as ``member_<i>.msgpack``. With
    ``warm_start`` (e.g. the active ensemble's members), member ``i`` starts from
    ``warm_start[i % len(warm_start)]``'s weights: retraining on a grown catalogue.
    """
    seeds = list(seeds) if seeds is not None else [config.train.seed + i for i in range(num_models)]
    if warm_start is not None and not warm_start:
        raise ValueError("warm_start needs at least one model")
    train_graphs = graphs_for_samples(config, train_samples)
    eval_graphs = graphs_for_samples(config, eval_samples) if eval_samples else None
    members = []
    for index, seed in enumerate(seeds):
        member_progress: ProgressCallback | None = None
        if progress is not None:

            def member_progress(p, index=index):
                progress(index, p)

        members.append(
            train_model(
                config.with_train(seed=seed),
                train_samples,
                eval_samples,
                progress=member_progress,
                checkpoint_path=Path(checkpoint_dir) / f"member_{index}.msgpack" if checkpoint_dir else None,
                train_graphs=train_graphs,
                eval_graphs=eval_graphs,
                init_params=warm_start[index % len(warm_start)].params if warm_start else None,
            )
        )
    return Ensemble(members)
