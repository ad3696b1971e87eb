from ml_backend.configs import (
    config_from_dict,
    config_to_dict,
    cpu_compositional,
    cpu_structural,
    gnome_paper,
    tiny,
)


def test_configs_round_trip_through_plain_data():
    for config in (
        gnome_paper.get_config(),
        cpu_structural.get_config(),
        cpu_compositional.get_config(),
        tiny.get_config(),
    ):
        assert config_from_dict(config_to_dict(config)) == config


def test_paper_defaults():
    config = gnome_paper.get_config()
    assert config.model.latent_size == 256 and config.model.num_message_passing_steps == 3
    assert config.model.cutoff == 4.0
    assert (
        config.train.learning_rate == 5.55e-4
        and config.train.batch_size == 256
        and config.train.num_epochs == 1000
    )
