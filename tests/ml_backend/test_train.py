import numpy as np
import pytest

from ml_backend.data import Sample
from ml_backend.graphs import build_graphs
from ml_backend.predict import Predictor
from ml_backend.train import Progress, train_model
from tests.ml_backend.conftest import low_symmetry


def toy_samples(n: int = 24) -> list[Sample]:
    """Structures with a smooth, learnable target (depends on volume and composition)."""
    samples = []
    for i in range(n):
        s = low_symmetry()
        s.scale_lattice(s.volume * (0.85 + 0.3 * i / n))
        if i % 2:
            s.replace(0, "Na")
        target = -1.0 + 0.8 * (s.volume / len(s) - 14.0) / 4.0 + (0.3 if i % 2 else 0.0)
        samples.append(Sample(s, float(target), f"toy-{i}"))
    return samples


def test_tiny_training_run_lowers_the_loss_and_reports_progress(tiny_structural):
    samples = toy_samples()
    events: list[Progress] = []
    config = tiny_structural.with_train(num_epochs=15, eval_every_epochs=5)
    trained = train_model(config, samples[:18], samples[18:], progress=events.append)
    assert [e.epoch for e in events] == list(range(1, 16))
    assert events[-1].train_loss < 0.5 * events[0].train_loss
    assert events[-1].eval_mae is not None and events[4].eval_mae is not None
    assert trained.epoch == 15 and trained.step == events[-1].step > 0
    assert trained.normalisation.target_std > 0 and trained.normalisation.avg_adjacency > 1
    predictions = Predictor(trained).predict_graphs(build_graphs([s.structure for s in samples]))
    targets = np.array([s.target for s in samples])
    assert np.mean(np.abs(predictions - targets)) < np.mean(np.abs(targets - targets[:18].mean()))


def test_training_is_deterministic_for_a_seed(tiny_structural):
    samples = toy_samples(8)
    config = tiny_structural.with_train(num_epochs=2)
    a = train_model(config, samples)
    b = train_model(config, samples)
    assert a.history == b.history
    c = train_model(config.with_train(seed=1), samples)
    assert c.history != a.history


def test_resume_continues_from_the_checkpoint(tiny_structural, tmp_path):
    samples = toy_samples(8)
    path = tmp_path / "model.msgpack"
    config = tiny_structural.with_train(num_epochs=4, checkpoint_every_epochs=2)
    full = train_model(config, samples)
    # Simulate an interrupted run: stop after 2 epochs, then resume to 4.
    partial = train_model(config.with_train(max_train_seconds=0.0), samples, checkpoint_path=path)
    assert partial.epoch == 1
    resumed = train_model(config, samples, checkpoint_path=path)
    assert resumed.epoch == 4
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3, 4]
    np.testing.assert_allclose(resumed.history[-1]["train_loss"], full.history[-1]["train_loss"], rtol=1e-4)


def test_training_rejects_empty_data(tiny_structural):
    with pytest.raises(ValueError):
        train_model(tiny_structural, [])
