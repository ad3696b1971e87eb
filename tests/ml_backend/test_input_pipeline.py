import numpy as np

from ml_backend.graphs import build_graphs
from ml_backend.input_pipeline import PaddingStats, budget_ladder, iterate_batches
from ml_backend.predict import Predictor
from ml_backend.train import init_trained_model


def test_every_graph_lands_in_exactly_one_batch_with_a_budget_from_the_ladder(small_structures):
    graphs = build_graphs(small_structures)
    ladder = budget_ladder(graphs, batch_size=4)
    stats = PaddingStats()
    seen = []
    targets = np.arange(len(graphs), dtype=np.float32)
    for batch in iterate_batches(graphs, ladder, targets, rng=np.random.default_rng(1), stats=stats):
        shape = (
            batch.graphs.nodes["species"].shape[0],
            batch.graphs.senders.shape[0],
            batch.graphs.n_node.shape[0],
        )
        assert shape in {(b.n_node, b.n_edge, b.n_graph) for b in ladder}
        assert batch.mask.sum() == len(batch.indices)
        np.testing.assert_array_equal(batch.targets[batch.mask], targets[batch.indices])
        assert np.all(batch.targets[~batch.mask] == 0)
        seen.extend(batch.indices.tolist())
    assert sorted(seen) == list(range(len(graphs)))
    assert 0 <= stats.node_waste_percent < 100 and 0 <= stats.edge_waste_percent < 100


def test_compile_count_stays_constant_over_many_batches(small_structures, tiny_structural):
    graphs = build_graphs(small_structures)
    trained = init_trained_model(tiny_structural, graphs)
    predictor = Predictor(trained)
    # The compiled forward pass is shared by all models of a config, so count from here.
    start = predictor.trace_count
    first = predictor.predict_graphs(graphs)
    predictor.predict_graphs(graphs[:5])
    warm = predictor.trace_count - start
    assert warm <= len(trained.ladder)
    for _ in range(5):  # many more batches, with different groupings
        again = predictor.predict_graphs(graphs[::-1])[::-1]
        np.testing.assert_allclose(again, first, rtol=1e-5, atol=1e-5)
        predictor.predict_graphs(graphs[:5])
        predictor.predict_graphs(graphs[3:8])
    assert predictor.trace_count - start == warm
    assert predictor.padding.batches > 10
