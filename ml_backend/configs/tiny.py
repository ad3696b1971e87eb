"""A tiny config for tests: seconds on a CPU."""

from ml_backend.configs.base import Config, ModelConfig, TrainConfig


def get_config(kind: str = "structural") -> Config:
    return Config(
        name=f"tiny_{kind}",
        model=ModelConfig(kind=kind, latent_size=16, num_message_passing_steps=2, num_rbf=8),  # type: ignore[arg-type]
        train=TrainConfig(
            learning_rate=3e-3,
            end_learning_rate_fraction=0.1,
            batch_size=4,
            num_epochs=20,
            loss="mse",
            eval_every_epochs=5,
            checkpoint_every_epochs=5,
        ),
    )
