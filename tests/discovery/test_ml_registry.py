"""The model registry: train_models trains on the catalogue, registers and activates; predictions load it."""

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from discovery.ml_adapter import active_ensemble, catalogue_samples, models_train
from discovery.models import TrainedModel
from hull.services.ingest import ingest_file
from ml_backend.data import hash_split

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(li_o_file, settings, tmp_path):
    settings.PORTAL_MODEL_DIR = tmp_path / "models"
    ingest_file(path=li_o_file)


def test_samples_are_entries_with_formation_energies(catalogue):
    samples = catalogue_samples(hull_set="dft")
    assert len(samples) == 57
    assert all(np.isfinite(s.target) for s in samples)
    assert min(s.target for s in samples) < -1.0  # Li2O is strongly bound


def test_train_models_command_registers_an_active_ensemble(catalogue, capsys):
    call_command("train_models", "--config", "tiny", "--models", "2", "--epochs", "3", "--name", "tiny-a")
    out = capsys.readouterr().out
    assert "registered tiny-a (structural, 2 models" in out and "[active]" in out
    model = TrainedModel.objects.get(name="tiny-a")
    assert model.is_active and model.n_train + model.n_test == 57
    assert model.split["method"].startswith("md5")
    assert np.isfinite(model.metrics["test_mae"]) and np.isfinite(model.metrics["baseline_mae"])
    # the registered test MAE is that of the members' median on the relaxed test structures as they are
    _, ensemble = active_ensemble("structural")
    _, test = hash_split(catalogue_samples(hull_set="dft"))
    targets = np.array([s.target for s in test])
    members = np.stack([p.predict([s.structure for s in test]) for p in ensemble.predictors])
    assert model.metrics["test_mae"] == pytest.approx(
        np.mean(np.abs(np.median(members, 0) - targets)), abs=1e-5
    )
    assert model.metrics["test_mae"] <= np.mean(np.abs(members - targets)) + 1e-6
    # a second model of the same kind takes over as the active one
    models_train(config_name="tiny", n_models=1, epochs=2, name="tiny-b")
    assert list(TrainedModel.objects.filter(is_active=True).values_list("name", flat=True)) == ["tiny-b"]
    registered, ensemble = active_ensemble("structural")
    assert registered.name == "tiny-b" and len(ensemble.members) == 1
    structures = [s.structure for s in catalogue_samples()[:3]]
    assert np.all(np.isfinite(ensemble.predict_structures(structures).median))


def test_bad_requests_are_clear(catalogue):
    with pytest.raises(CommandError, match="no model config 'nope'"):
        call_command("train_models", "--config", "nope")
    with pytest.raises(CommandError, match="n_models must be between 1 and 32"):
        call_command("train_models", "--models", "0")


def test_scaling_experiment_is_stored_and_shown(catalogue, client, capsys):
    models_train(kind="compositional", config_name="tiny", n_models=1, epochs=2, name="tiny-comp")
    call_command(
        "model_scaling",
        "--kind",
        "compositional",
        "--config",
        "tiny",
        "--epochs",
        "3",
        "--fractions",
        "0.25,0.5,1.0",
    )
    out = capsys.readouterr().out
    assert "power law: MAE =" in out
    scaling = TrainedModel.objects.get(name="tiny-comp").metrics["scaling"]
    assert len(scaling["sizes"]) == 3 and scaling["sizes"] == sorted(scaling["sizes"])
    assert all(np.isfinite(scaling["test_mae"]))
    page = client.get("/discovery/")
    assert page.status_code == 200 and "tiny-comp" in page.content.decode()
