import numpy as np

from ml_backend.checkpoints import load_checkpoint, save_checkpoint
from ml_backend.graphs import build_graphs
from ml_backend.models import Normalisation
from ml_backend.predict import Predictor, predict_structures
from ml_backend.train import init_trained_model


def test_save_load_round_trip_predicts_identically(small_structures, tiny_structural, tmp_path):
    graphs = build_graphs(small_structures)
    trained = init_trained_model(
        tiny_structural, graphs, Normalisation(target_mean=-1.2, target_std=0.7, avg_adjacency=17.5), seed=5
    )
    trained.fingerprint = "abc123"
    trained.history = [{"epoch": 1, "train_loss": 0.5}]
    path = save_checkpoint(tmp_path / "m.msgpack", trained)
    loaded = load_checkpoint(path)
    assert loaded.config == trained.config
    assert loaded.normalisation == trained.normalisation
    assert loaded.ladder == trained.ladder
    assert loaded.fingerprint == "abc123" and loaded.history == trained.history
    before = Predictor(trained).predict_graphs(graphs)
    after = predict_structures(loaded, small_structures)
    np.testing.assert_array_equal(before, after)
