"""The demo ensemble a fresh portal trains on its first start (``manage.py models_bootstrap``).

Small enough to be ready a few minutes after the first start on 2 CPU cores, good enough for the filter of a
first round on the demo catalogue: ``cpu_structural``'s architecture at half the width (32 features: the edge
MLPs cost the square of it), 2 message-passing steps, 16 Gaussians, and a short schedule with a higher learning
rate, decayed linearly to 5%. See docs/discovery.md for its measured time and test MAE.
"""

from ml_backend.configs.base import Config, ModelConfig, TrainConfig


def get_config(kind: str = "structural") -> Config:
    return Config(
        name=f"cpu_demo_{kind}",
        model=ModelConfig(kind=kind, latent_size=32, num_message_passing_steps=2, num_rbf=16),  # type: ignore[arg-type]
        train=TrainConfig(
            learning_rate=3e-3,
            end_learning_rate_fraction=0.05,
            batch_size=32,
            num_epochs=15,
            loss="huber",
            eval_every_epochs=5,
            checkpoint_every_epochs=5,
        ),
    )
