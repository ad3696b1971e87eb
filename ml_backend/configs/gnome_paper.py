"""The paper's settings (Merchant et al. 2023): for accelerators, not for a 2-core CPU."""

from ml_backend.configs.base import Config, ModelConfig, TrainConfig


def get_config() -> Config:
    return Config(name="gnome_paper", model=ModelConfig(), train=TrainConfig())
