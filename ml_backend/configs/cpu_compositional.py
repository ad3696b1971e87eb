"""CPU default for the compositional model (one node per element, fraction-weighted one-hot)."""

from ml_backend.configs.base import Config, ModelConfig, TrainConfig


def get_config() -> Config:
    return Config(
        name="cpu_compositional",
        model=ModelConfig(kind="compositional", latent_size=64, num_message_passing_steps=3),
        train=TrainConfig(
            learning_rate=2e-3,
            end_learning_rate_fraction=0.01,
            batch_size=64,
            num_epochs=300,
            loss="huber",
            eval_every_epochs=20,
            checkpoint_every_epochs=20,
        ),
    )
