"""Training of GNoME networks (Merchant et al. 2023, Methods): Adam with a linear learning-rate
decay, standardised formation energy per atom as target, pure ``jax.jit`` train/eval steps over a
``TrainState`` pytree, explicit PRNG keys, resumable checkpoints and a progress callback.

Typical use from the portal::

    trained = train_model(config, train_samples, eval_samples, progress=callback,
                          checkpoint_path="var/models/gnome_seed0.msgpack")
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import jraph
import numpy as np
import optax

from ml_backend.checkpoints import load_checkpoint, save_checkpoint
from ml_backend.configs.base import Config, ModelConfig, TrainConfig
from ml_backend.data import Sample, fingerprint
from ml_backend.graphs import average_adjacency, graph_for_kind
from ml_backend.input_pipeline import (
    Batch,
    PaddingStats,
    budget_ladder,
    extend_ladder,
    iterate_batches,
    pack_indices,
)
from ml_backend.models import Normalisation, create_model, normalisation_variables
from ml_backend.predict import Predictor, TrainedModel


@dataclasses.dataclass(frozen=True)
class Progress:
    """Passed to the progress callback after every epoch (a Django command can draw a bar)."""

    epoch: int
    num_epochs: int
    step: int
    train_loss: float
    eval_mae: float | None
    seconds: float


ProgressCallback = Callable[[Progress], None]


def make_optimizer(train: TrainConfig) -> optax.GradientTransformation:
    """Adam (AdamW with ``weight_decay``) *without* the learning rate, which each step receives as
    an argument (:func:`learning_rate_at`) so one compiled step serves any schedule length."""
    parts = [optax.scale_by_adam()]
    if train.weight_decay:
        parts.append(optax.add_decayed_weights(train.weight_decay))
    return optax.chain(*parts)


def learning_rate_at(train: TrainConfig, step: int, total_steps: int) -> float:
    """Linear decay from ``learning_rate`` to ``learning_rate * end_learning_rate_fraction``."""
    progress = min(step / max(total_steps, 1), 1.0)
    return train.learning_rate * (1.0 - progress * (1.0 - train.end_learning_rate_fraction))


def loss_per_graph(
    pred: jnp.ndarray, target: jnp.ndarray, train: TrainConfig, std: jnp.ndarray
) -> jnp.ndarray:
    """Loss in standardised units, so hyper-parameters do not depend on the energy scale."""
    error = (pred - target) / std
    if train.loss == "mse":
        return error**2
    if train.loss == "l1":
        return jnp.abs(error)
    return optax.huber_loss(error, delta=train.huber_delta) / train.huber_delta


def graphs_for_samples(config: Config, samples: Sequence[Sample]) -> list[jraph.GraphsTuple]:
    return [graph_for_kind(config.model.kind, s.structure, config.model.cutoff) for s in samples]


@flax.struct.dataclass
class TrainState:
    """Weights, optimiser state and step: the whole mutable state of a run (a pytree)."""

    step: jnp.ndarray
    params: Any
    opt_state: Any


class Trainer:
    """Pure jitted train and eval steps for one model config and loss.

    Shared (cached by :func:`get_trainer`) by every run with the same architecture and loss:
    seeds, data, normalisation statistics and learning rates are arguments, so ensemble members
    and data subsets reuse the compiled programs. ``trace_counts`` records compilations.
    """

    def __init__(self, model_config: ModelConfig, train_cfg: TrainConfig):
        self.model = create_model(model_config)
        self.optimizer = make_optimizer(train_cfg)
        self.trace_counts = {"train": 0, "eval": 0}

        def loss_fn(params, normalisation, graphs, targets, mask):
            pred = self.model.apply({"params": params, "normalisation": normalisation}, graphs)
            losses = loss_per_graph(pred, targets, train_cfg, normalisation["target_std"])
            return jnp.sum(jnp.where(mask, losses, 0.0)) / jnp.maximum(jnp.sum(mask), 1), pred

        def train_step(state: TrainState, normalisation, graphs, targets, mask, learning_rate):
            self.trace_counts["train"] += 1
            grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
            (loss, pred), grads = grad_fn(state.params, normalisation, graphs, targets, mask)
            updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
            updates = jax.tree_util.tree_map(lambda u: -learning_rate * u, updates)
            params = optax.apply_updates(state.params, updates)
            abs_err = jnp.sum(jnp.where(mask, jnp.abs(pred - targets), 0.0))
            metrics = {"loss": loss, "abs_err_sum": abs_err, "n": jnp.sum(mask)}
            return TrainState(step=state.step + 1, params=params, opt_state=opt_state), metrics

        def eval_step(params, normalisation, graphs, targets, mask):
            self.trace_counts["eval"] += 1
            pred = self.model.apply({"params": params, "normalisation": normalisation}, graphs)
            return {"abs_err_sum": jnp.sum(jnp.where(mask, jnp.abs(pred - targets), 0.0)), "n": jnp.sum(mask)}

        self.train_step = jax.jit(train_step, donate_argnums=0)
        self.eval_step = jax.jit(eval_step)
        self._init = jax.jit(self.model.init)

    def init_state(self, key: jax.Array, example: Batch) -> TrainState:
        params = self._init(key, example.graphs)["params"]
        return TrainState(step=jnp.int32(0), params=params, opt_state=self.optimizer.init(params))

    def evaluate(self, params, normalisation, graphs, targets, ladder) -> float:
        total, count = 0.0, 0
        for batch in iterate_batches(graphs, ladder, targets):
            out = self.eval_step(params, normalisation, batch.graphs, batch.targets, batch.mask)
            total += float(out["abs_err_sum"])
            count += int(out["n"])
        return total / max(count, 1)


@functools.lru_cache(maxsize=8)
def get_trainer(model_config: ModelConfig, loss: str, huber_delta: float, weight_decay: float) -> Trainer:
    """The shared :class:`Trainer` for an architecture and loss (see its docstring)."""
    train_cfg = TrainConfig(loss=loss, huber_delta=huber_delta, weight_decay=weight_decay)  # type: ignore[arg-type]
    return Trainer(model_config, train_cfg)


def trainer_for(config: Config) -> Trainer:
    t = config.train
    return get_trainer(config.model, t.loss, t.huber_delta, t.weight_decay)


def _same_run(a: Config, b: Config) -> bool:
    """Configs equal up to run-control fields (epochs, budget in seconds, eval/checkpoint cadence).

    Resuming with another ``num_epochs`` extends or shortens the run: the linear decay is
    recomputed for the new length from the current step."""

    def strip(c: Config) -> Config:
        return c.with_train(
            num_epochs=1, max_train_seconds=None, eval_every_epochs=1, checkpoint_every_epochs=1
        )

    return strip(a) == strip(b)


def compute_normalisation(targets: np.ndarray, graphs: Sequence[jraph.GraphsTuple]) -> Normalisation:
    """Target mean/std and average adjacency of the training set (stored with the model)."""
    return Normalisation(
        target_mean=float(np.mean(targets)),
        target_std=float(max(np.std(targets), 1e-6)),
        avg_adjacency=float(average_adjacency(graphs)),
    )


def train_model(
    config: Config,
    train_samples: Sequence[Sample],
    eval_samples: Sequence[Sample] | None = None,
    *,
    progress: ProgressCallback | None = None,
    checkpoint_path: str | Path | None = None,
    resume: bool = True,
    train_graphs: Sequence[jraph.GraphsTuple] | None = None,
    eval_graphs: Sequence[jraph.GraphsTuple] | None = None,
    init_params: Any = None,
) -> TrainedModel:
    """Train one model on ``train_samples`` (targets in eV/atom) and return it.

    With ``checkpoint_path``, a checkpoint is written every ``checkpoint_every_epochs`` and at the
    end; an existing checkpoint with the same config and data fingerprint is resumed. Prebuilt
    graphs may be passed to save rebuilding them (e.g. across ensemble members). ``init_params``
    warm-starts from existing weights of the same architecture (fresh optimiser state; the
    normalisation statistics are recomputed from the new training data).
    """
    if not train_samples:
        raise ValueError("no training samples")
    train_cfg = config.train
    start_time = time.perf_counter()
    train_graphs = (
        list(train_graphs) if train_graphs is not None else graphs_for_samples(config, train_samples)
    )
    targets = np.array([s.target for s in train_samples], dtype=np.float32)
    if eval_samples:
        eval_graphs = (
            list(eval_graphs) if eval_graphs is not None else graphs_for_samples(config, eval_samples)
        )
        eval_targets = np.array([s.target for s in eval_samples], dtype=np.float32)
    data_fingerprint = fingerprint(train_samples)

    normalisation = compute_normalisation(targets, train_graphs)
    ladder = budget_ladder(train_graphs, train_cfg.batch_size)
    # Training and evaluation pad every batch to the largest budget: one compilation each.
    train_ladder = [max(ladder)]
    steps_per_epoch = sum(1 for _ in pack_indices(train_graphs, range(len(train_graphs)), max(ladder)))
    total_steps = steps_per_epoch * train_cfg.num_epochs

    trainer = trainer_for(config)
    init_key, _ = jax.random.split(jax.random.key(train_cfg.seed))
    state = trainer.init_state(init_key, next(iterate_batches(train_graphs, train_ladder, targets)))
    if init_params is not None:
        params = jax.tree_util.tree_map(jnp.asarray, init_params)
        if jax.tree_util.tree_structure(params) != jax.tree_util.tree_structure(state.params):
            raise ValueError("init_params do not match the architecture of the config")
        state = TrainState(step=state.step, params=params, opt_state=trainer.optimizer.init(params))

    trained = TrainedModel(config, state.params, normalisation, ladder, data_fingerprint)
    start_epoch = 0
    if checkpoint_path is not None and resume and Path(checkpoint_path).exists():
        previous = load_checkpoint(checkpoint_path, opt_state_template=state.opt_state)
        if previous.fingerprint == data_fingerprint and _same_run(previous.config, config):
            state = TrainState(
                step=jnp.int32(previous.step),
                params=jax.tree_util.tree_map(jnp.asarray, previous.params),
                opt_state=jax.tree_util.tree_map(jnp.asarray, previous.opt_state),
            )
            normalisation, ladder = previous.normalisation, previous.ladder
            train_ladder = [max(ladder)]
            trained = dataclasses.replace(previous, params=state.params)
            start_epoch = previous.epoch
            trained.config = config
    stats = normalisation_variables(normalisation)
    # Evaluation graphs larger than any training budget get a budget of their own (compiled once).
    eval_ladder = list(train_ladder)
    for graph in eval_graphs or ():
        eval_ladder = extend_ladder(eval_ladder, graph)

    def snapshot(epoch: int) -> TrainedModel:
        return dataclasses.replace(
            trained, params=state.params, opt_state=state.opt_state, step=int(state.step), epoch=epoch
        )

    padding = PaddingStats()
    step = int(state.step)
    for epoch in range(start_epoch, train_cfg.num_epochs):
        # Shuffling key derived from the seed and epoch: a resumed run sees the same order.
        rng = np.random.default_rng([train_cfg.seed, epoch])
        loss_sum, n_batches = 0.0, 0
        for batch in iterate_batches(train_graphs, train_ladder, targets, rng=rng, stats=padding):
            lr = np.float32(learning_rate_at(train_cfg, step, total_steps))
            step += 1
            state, metrics = trainer.train_step(state, stats, batch.graphs, batch.targets, batch.mask, lr)
            loss_sum += float(metrics["loss"])
            n_batches += 1
        done = epoch + 1
        eval_mae = None
        if eval_samples and (done % train_cfg.eval_every_epochs == 0 or done == train_cfg.num_epochs):
            eval_mae = trainer.evaluate(state.params, stats, eval_graphs, eval_targets, eval_ladder)
        record = {"epoch": done, "train_loss": loss_sum / max(n_batches, 1)}
        if eval_mae is not None:
            record["eval_mae"] = eval_mae
        trained.history.append(record)
        if progress is not None:
            progress(
                Progress(
                    epoch=done,
                    num_epochs=train_cfg.num_epochs,
                    step=int(state.step),
                    train_loss=record["train_loss"],
                    eval_mae=eval_mae,
                    seconds=time.perf_counter() - start_time,
                )
            )
        if checkpoint_path is not None and (
            done % train_cfg.checkpoint_every_epochs == 0 or done == train_cfg.num_epochs
        ):
            save_checkpoint(checkpoint_path, snapshot(done))
        if (
            train_cfg.max_train_seconds is not None
            and time.perf_counter() - start_time > train_cfg.max_train_seconds
        ):
            break

    final = snapshot(trained.history[-1]["epoch"] if trained.history else start_epoch)
    final.params = jax.tree_util.tree_map(np.asarray, final.params)
    if checkpoint_path is not None:
        save_checkpoint(checkpoint_path, final)
    return final


def init_trained_model(
    config: Config,
    graphs: Sequence[jraph.GraphsTuple],
    normalisation: Normalisation | None = None,
    seed: int | None = None,
) -> TrainedModel:
    """An untrained model (random weights from ``seed``) with budgets fitted to ``graphs``.

    For tests, benchmarks and timing; ``train_model`` is what produces useful weights.
    """
    normalisation = normalisation or Normalisation(avg_adjacency=average_adjacency(graphs))
    ladder = budget_ladder(graphs, config.train.batch_size)
    key = jax.random.key(config.train.seed if seed is None else seed)
    state = trainer_for(config).init_state(key, next(iterate_batches(graphs, ladder)))
    return TrainedModel(config, jax.tree_util.tree_map(np.asarray, state.params), normalisation, ladder)


def evaluate_mae(trained: TrainedModel, samples: Sequence[Sample]) -> float:
    """Mean absolute error (eV/atom) of a trained model on samples."""
    predictor = Predictor(trained)
    pred = predictor.predict_graphs(graphs_for_samples(trained.config, samples))
    return float(np.mean(np.abs(pred - np.array([s.target for s in samples]))))
