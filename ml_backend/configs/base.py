"""Configuration dataclasses for the GNoME graph networks.

The defaults of the dataclasses are the paper's accelerator settings (Merchant et al. 2023,
Methods: 256 features, 3 message-passing steps, Adam at 5.55e-4 with linear decay, batch 256,
1,000 epochs, 4 A cutoff). The modules next to this one derive smaller presets for the CPU.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

ModelKind = Literal["structural", "compositional"]


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Architecture of one graph network."""

    kind: ModelKind = "structural"
    latent_size: int = 256
    num_message_passing_steps: int = 3
    mlp_layers: int = 2
    num_rbf: int = 32
    cutoff: float = 4.0
    rbf_width: float | None = None  # Gaussian width in A; default: spacing of the centres
    num_species: int = 94


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimiser, batching and schedule."""

    learning_rate: float = 5.55e-4
    end_learning_rate_fraction: float = 0.0  # linear decay down to lr * fraction
    batch_size: int = 256  # mean number of graphs per batch (node/edge budgets follow from it)
    num_epochs: int = 1000
    loss: Literal["mse", "huber", "l1"] = "huber"
    huber_delta: float = 0.1  # in standardised target units
    weight_decay: float = 0.0
    seed: int = 0
    eval_every_epochs: int = 10
    checkpoint_every_epochs: int = 10
    max_train_seconds: float | None = None  # wall-clock budget; stops at an epoch boundary


@dataclasses.dataclass(frozen=True)
class Config:
    """Model and training configuration; stored inside every checkpoint."""

    name: str = "gnome_paper"
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)

    def replace(self, **changes: Any) -> Config:
        """Return a copy with top-level fields changed (``model=...``, ``train=...``)."""
        return dataclasses.replace(self, **changes)

    def with_model(self, **changes: Any) -> Config:
        return dataclasses.replace(self, model=dataclasses.replace(self.model, **changes))

    def with_train(self, **changes: Any) -> Config:
        return dataclasses.replace(self, train=dataclasses.replace(self.train, **changes))


def config_to_dict(config: Config) -> dict[str, Any]:
    """Plain-data form of a config (JSON/msgpack serialisable)."""
    return dataclasses.asdict(config)


def config_from_dict(data: dict[str, Any]) -> Config:
    """Inverse of :func:`config_to_dict`; unknown keys are rejected."""
    return Config(
        name=data.get("name", "unnamed"),
        model=ModelConfig(**data.get("model", {})),
        train=TrainConfig(**data.get("train", {})),
    )
