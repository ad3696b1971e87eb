import numpy as np
import pytest

from ml_backend.ensemble import NO_AUGMENTATION, Augmentation, Ensemble, median_and_iqr, scaled_structures
from ml_backend.graphs import build_composition_graphs, build_graphs
from ml_backend.train import init_trained_model


def test_median_and_iqr_on_known_inputs():
    values = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [4.0, 10.0], [100.0, 10.0]])
    median, iqr = median_and_iqr(values, axis=0)
    np.testing.assert_allclose(median, [3.0, 10.0])
    np.testing.assert_allclose(iqr, [2.0, 0.0])  # 75th (4) - 25th (2); the outlier does not matter
    median, iqr = median_and_iqr(np.array([1.0, 2.0, 3.0, 4.0]))
    assert median == pytest.approx(2.5) and iqr == pytest.approx(1.5)


def test_volume_fractions_and_scaled_cells(triclinic):
    fractions = Augmentation(num_volumes=5).volume_fractions()
    np.testing.assert_allclose(fractions, [0.8, 0.9, 1.0, 1.1, 1.2])
    np.testing.assert_allclose(Augmentation().volume_fractions()[[0, -1]], [0.8, 1.2])
    assert len(Augmentation().volume_fractions()) == 20
    volumes = [s.volume / triclinic.volume for s in scaled_structures(triclinic, fractions)]
    np.testing.assert_allclose(volumes, fractions, rtol=1e-10)


def test_ensemble_takes_min_over_volumes_then_median_over_seeds(small_structures, tiny_structural):
    graphs = build_graphs(small_structures)
    members = [init_trained_model(tiny_structural, graphs, seed=s) for s in range(3)]
    ensemble = Ensemble(members)
    structures = small_structures[:4]
    plain = ensemble.predict_structures(structures, NO_AUGMENTATION)
    augmented = ensemble.predict_structures(structures, Augmentation(num_volumes=5))
    assert plain.per_model.shape == augmented.per_model.shape == (3, 4)
    assert np.all(augmented.per_model <= plain.per_model + 1e-5)  # 1.0 is among the 5 volumes
    median, iqr = median_and_iqr(augmented.per_model)
    np.testing.assert_allclose(augmented.median, median)
    np.testing.assert_allclose(augmented.iqr, iqr)
    assert set(augmented.best_volume_fraction) <= {0.8, 0.9, 1.0, 1.1, 1.2}
    assert np.all(plain.iqr >= 0) and np.any(plain.iqr > 0)  # different seeds disagree


def test_ensemble_save_load_and_compositions(tiny_compositional, tmp_path):
    comps = ["LiFePO4", "NaCl", "Fe2O3", "CoO"]
    graphs = build_composition_graphs(comps)
    ensemble = Ensemble([init_trained_model(tiny_compositional, graphs, seed=s) for s in range(2)])
    ensemble.save(tmp_path)
    loaded = Ensemble.load(tmp_path)
    np.testing.assert_array_equal(
        loaded.predict_compositions(comps).median, ensemble.predict_compositions(comps).median
    )
    with pytest.raises(ValueError):
        loaded.predict_structures([])


def test_train_ensemble_warm_starts_from_members(tiny_structural):
    from ml_backend.ensemble import train_ensemble
    from tests.ml_backend.test_train import toy_samples

    samples = toy_samples(8)
    config = tiny_structural.with_train(num_epochs=1)
    first = train_ensemble(config, samples, num_models=2)
    events = []
    warm = train_ensemble(
        config,
        samples,
        num_models=2,
        warm_start=first.members,
        progress=lambda i, p: events.append((i, p.epoch)),
    )
    assert events == [(0, 1), (1, 1)]
    assert warm.members[0].history[0]["train_loss"] < first.members[0].history[0]["train_loss"]
