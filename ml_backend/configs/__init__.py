"""Configurations as plain dataclasses (see :mod:`ml_backend.configs.base`)."""

from ml_backend.configs.base import Config, ModelConfig, TrainConfig, config_from_dict, config_to_dict

__all__ = ["Config", "ModelConfig", "TrainConfig", "config_from_dict", "config_to_dict"]
