"""Resumable checkpoints: one msgpack file (flax serialisation) holding weights, optimiser state,
config, normalisation statistics (target mean/std, average adjacency), padding budgets and the
training data's fingerprint. Writes are atomic (temporary file + rename)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import flax.serialization
import jax
import numpy as np

from ml_backend.configs.base import config_from_dict, config_to_dict
from ml_backend.input_pipeline import Budget
from ml_backend.models import Normalisation
from ml_backend.predict import TrainedModel

FORMAT_VERSION = 1


def _to_numpy(tree: Any) -> Any:
    return jax.tree_util.tree_map(np.asarray, tree)


def save_checkpoint(path: str | os.PathLike, trained: TrainedModel) -> Path:
    """Write ``trained`` to ``path`` atomically; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "config": config_to_dict(trained.config),
        "normalisation": dataclasses.asdict(trained.normalisation),
        "ladder": [list(dataclasses.astuple(b)) for b in trained.ladder],
        "fingerprint": trained.fingerprint,
        "epoch": trained.epoch,
        "step": trained.step,
        "history": trained.history,
        "params": flax.serialization.to_state_dict(_to_numpy(trained.params)),
        "opt_state": flax.serialization.to_state_dict(_to_numpy(trained.opt_state))
        if trained.opt_state is not None
        else None,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(flax.serialization.msgpack_serialize(payload))
    os.replace(tmp, path)
    return path


def load_checkpoint(path: str | os.PathLike, opt_state_template: Any = None) -> TrainedModel:
    """Read a checkpoint. The optimiser state is restored into ``opt_state_template`` when given
    (needed to resume training); otherwise it is kept as its raw state dict."""
    payload = flax.serialization.msgpack_restore(Path(path).read_bytes())
    if payload.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported checkpoint format {payload.get('format_version')!r}")
    opt_state = payload.get("opt_state")
    if opt_state is not None and opt_state_template is not None:
        opt_state = flax.serialization.from_state_dict(opt_state_template, opt_state)
    ladder = payload["ladder"]
    ladder = (
        [Budget(*map(int, ladder[k])) for k in sorted(ladder, key=int)]
        if isinstance(ladder, dict)
        else [Budget(*map(int, b)) for b in ladder]
    )
    history = payload.get("history") or []
    if isinstance(history, dict):
        history = [history[k] for k in sorted(history, key=int)]
    return TrainedModel(
        config=config_from_dict(_plain(payload["config"])),
        params=payload["params"],
        normalisation=Normalisation(**{k: float(v) for k, v in payload["normalisation"].items()}),
        ladder=ladder,
        fingerprint=str(payload["fingerprint"]),
        epoch=int(payload["epoch"]),
        history=[_plain(h) for h in history],
        opt_state=opt_state,
        step=int(payload["step"]),
    )


def _plain(tree: Any) -> Any:
    """msgpack returns numpy scalars and tuple-as-dict; turn them back into Python values."""
    if isinstance(tree, dict):
        return {k: _plain(v) for k, v in tree.items()}
    if isinstance(tree, np.generic):
        return tree.item()
    return tree
