import itertools

import numpy as np
import pytest
from pymatgen.core import Composition

from ml_backend.graphs import average_adjacency, composition_to_graph, structure_to_graph
from ml_backend.models import edge_vectors
from tests.ml_backend.conftest import low_symmetry, rock_salt


def brute_force_edges(structure, cutoff):
    """All (sender, receiver, image) with 0 < |pos[r] + image @ L - pos[s]| < cutoff, by enumeration."""
    lattice = structure.lattice.matrix
    pos = structure.cart_coords
    # Enough images: the cutoff divided by the distance between opposite faces, per axis.
    heights = structure.lattice.volume / np.linalg.norm(
        np.cross(lattice[[1, 2, 0]], lattice[[2, 0, 1]]), axis=1
    )
    reach = np.ceil(cutoff / heights).astype(int) + 1
    edges = set()
    for image in itertools.product(*(range(-r, r + 1) for r in reach)):
        shift = np.array(image) @ lattice
        for s in range(len(structure)):
            d = np.linalg.norm(pos + shift - pos[s], axis=1)
            for r in np.nonzero((d < cutoff) & (d > 1e-8))[0]:
                edges.add((s, int(r), image))
    return edges


@pytest.mark.parametrize("make, cutoff", [(rock_salt, 5.0), (low_symmetry, 4.0)])
def test_edges_match_enumeration_and_pymatgen(make, cutoff):
    structure = make()
    graph = structure_to_graph(structure, cutoff)
    ours = {
        (int(s), int(r), tuple(int(x) for x in o))
        for s, r, o in zip(graph.senders, graph.receivers, graph.edges["offsets"], strict=True)
    }
    assert len(ours) == len(graph.senders)  # no duplicate edges
    assert ours == brute_force_edges(structure, cutoff)
    # Distances from the in-model formula equal pymatgen's, edge by edge.
    _, _, _, pmg_distances = structure.get_neighbor_list(cutoff)
    model_distances = np.linalg.norm(np.asarray(edge_vectors(graph)), axis=1)
    np.testing.assert_allclose(model_distances, pmg_distances, atol=1e-4)


def test_rock_salt_has_26_neighbours_within_5_angstrom(nacl):
    graph = structure_to_graph(nacl, 5.0)
    counts = np.bincount(graph.senders, minlength=len(nacl))
    assert counts.tolist() == [26] * 8
    assert graph.n_node.tolist() == [8] and graph.n_edge.tolist() == [8 * 26]
    assert average_adjacency([graph]) == pytest.approx(26.0)


def test_node_features_are_species_and_unit_weights(nacl):
    graph = structure_to_graph(nacl)
    assert sorted(set((graph.nodes["species"] + 1).tolist())) == [11, 17]
    assert np.all(graph.nodes["weights"] == 1.0)
    assert graph.globals["lattice"].shape == (1, 3, 3)


def test_composition_graph_weights_fractions_and_connects_all_pairs():
    graph = composition_to_graph(Composition("SiO2"))
    weights = dict(zip((graph.nodes["species"] + 1).tolist(), graph.nodes["weights"].tolist(), strict=True))
    assert weights == pytest.approx({14: 1 / 3, 8: 2 / 3})
    assert sorted(zip(graph.senders.tolist(), graph.receivers.tolist(), strict=True)) == [(0, 1), (1, 0)]
    ternary = composition_to_graph("LiFePO4")
    assert ternary.n_node.tolist() == [4] and ternary.n_edge.tolist() == [12]
