"""Physics invariances of the GNoME networks (random weights: invariance must not depend on training)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from ml_backend.graphs import build_graphs, structure_to_graph
from ml_backend.models import create_model, model_variables
from ml_backend.predict import Predictor
from ml_backend.train import init_trained_model

ATOL = 2e-5


@pytest.fixture
def predictor(small_structures, tiny_structural):
    trained = init_trained_model(tiny_structural, build_graphs(small_structures), seed=3)
    return Predictor(trained)


def energy(predictor, structure) -> float:
    return float(predictor.predict([structure])[0])


def random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_rotation_invariance(predictor, triclinic):
    rot = random_rotation(0)
    rotated = Structure(Lattice(triclinic.lattice.matrix @ rot.T), triclinic.species, triclinic.frac_coords)
    assert energy(predictor, rotated) == pytest.approx(energy(predictor, triclinic), abs=ATOL)


def test_translation_and_periodic_image_invariance(predictor, triclinic):
    moved = triclinic.copy()
    moved.translate_sites(range(len(moved)), [0.37, -0.21, 0.64], frac_coords=True, to_unit_cell=True)
    assert energy(predictor, moved) == pytest.approx(energy(predictor, triclinic), abs=ATOL)
    # Same crystal, one atom described by another periodic image (unwrapped coordinates).
    unwrapped = triclinic.copy()
    unwrapped.translate_sites([2], [1, -1, 2], frac_coords=True, to_unit_cell=False)
    assert energy(predictor, unwrapped) == pytest.approx(energy(predictor, triclinic), abs=ATOL)


def test_permutation_invariance(predictor, triclinic):
    order = [3, 0, 5, 1, 4, 2]
    permuted = Structure(
        triclinic.lattice, [triclinic.species[i] for i in order], triclinic.frac_coords[order]
    )
    assert energy(predictor, permuted) == pytest.approx(energy(predictor, triclinic), abs=ATOL)


@pytest.mark.parametrize("scaling", [[2, 1, 1], [[1, 1, 0], [-1, 1, 0], [0, 0, 1]]])
def test_supercell_gives_the_same_energy_per_atom(predictor, triclinic, nacl, scaling):
    for structure in (triclinic, nacl):
        supercell = structure.make_supercell(scaling, in_place=False)
        assert energy(predictor, supercell) == pytest.approx(energy(predictor, structure), abs=ATOL)
    primitive = nacl.get_primitive_structure()
    assert len(primitive) == 2
    assert energy(predictor, primitive) == pytest.approx(energy(predictor, nacl), abs=ATOL)


def test_padding_and_batch_company_change_nothing(predictor, small_structures):
    together = predictor.predict(small_structures)
    alone = np.array([energy(predictor, s) for s in small_structures])
    np.testing.assert_allclose(together, alone, atol=ATOL)


def test_energy_is_differentiable_in_the_cell_scale(small_structures, tiny_structural, triclinic):
    trained = init_trained_model(tiny_structural, build_graphs(small_structures))
    model = create_model(tiny_structural, trained.normalisation)
    graph = structure_to_graph(triclinic)

    def energy_at(scale):
        scaled = graph._replace(
            nodes={**graph.nodes, "positions": graph.nodes["positions"] * scale},
            globals={"lattice": graph.globals["lattice"] * scale},
        )
        return model.apply(model_variables(trained.params, trained.normalisation), scaled)[0]

    grad = jax.jit(jax.grad(energy_at))(jnp.float32(1.0))
    assert np.isfinite(float(grad)) and float(grad) != 0.0


def test_compositional_model_ignores_element_order_and_padding(tiny_compositional):
    from ml_backend.graphs import build_composition_graphs

    comps = ["LiFePO4", "NaCl", "Fe2O3", "Y2Mn2O7", "K", "CoO"]
    trained = init_trained_model(tiny_compositional, build_composition_graphs(comps))
    predictor = Predictor(trained)
    batch = predictor.predict(comps)
    single = np.array([predictor.predict([c])[0] for c in comps])
    np.testing.assert_allclose(batch, single, atol=ATOL)
    assert predictor.predict(["O4PFeLi"])[0] == pytest.approx(batch[0], abs=ATOL)
    assert predictor.predict(["Li2Fe2P2O8"])[0] == pytest.approx(batch[0], abs=ATOL)


def test_factory_rejects_unknown_kind(tiny_structural):
    with pytest.raises(ValueError):
        create_model(tiny_structural.with_model(kind="quantum"))
