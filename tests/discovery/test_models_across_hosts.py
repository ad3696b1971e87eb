"""Models across hosts: two real Celery workers, each with its own empty var folder and model cache (as if on
separate machines), share only the database, Redis and the model storage. The first trains the ensemble; the
second, which never saw its files, runs a round that filters with it and retrains it; a third cache (this test
process) then loads the retrained ensemble from the storage alone."""

import uuid

import numpy as np
import pytest
from django.conf import settings as django_settings

from discovery import ml_adapter
from discovery.ml_adapter import active_ensemble, catalogue_samples
from discovery.models import Round, RoundStage, TrainedModel, TrainingJob
from discovery.services import round_create
from discovery.training import training_start
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.celery_workers import (
    REDIS_URL,
    Worker,
    forget_redis_keys,
    require_redis,
    sending_to_redis,
    wait_for,
)
from tests.conftest import subset
from tests.discovery import test_rounds_on_workers as on_workers

CONFIG = {**on_workers.CONFIG, "retrain": True, "retrain_epochs": 1}


def cached_versions(model_dir) -> set[str]:
    cache = model_dir / "cache"
    return {f"{p.parent.name}/{p.name}" for p in cache.glob("*/*") if not p.name.startswith(".")}


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_model_trained_on_one_host_filters_and_retrains_on_another(tmp_path, mp_entry_dicts, settings):
    require_redis()
    tag = uuid.uuid4().hex[:8]
    # every queue of the portal, named for this test alone; both workers consume them all
    queues = {
        name: f"{name.lower()}-{tag}"
        for name in dir(django_settings)
        if name.startswith("PORTAL_") and name.endswith("_QUEUE")
    }
    for name, queue in queues.items():
        setattr(settings, name, queue)
    store = tmp_path / "store"
    settings.STORAGES = {
        **settings.STORAGES,
        "models": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(store)},
        },
    }
    settings.PORTAL_MODEL_DIR = tmp_path / "here" / "models"
    settings.PORTAL_DEMO_MODEL_CONFIG = "tiny"
    ml_adapter._loaded.clear()

    def host(label: str) -> Worker:
        var = tmp_path / label
        var.mkdir()
        env = {
            **queues,
            "PORTAL_VAR_DIR": str(var),
            "PORTAL_MODEL_DIR": str(var / "models"),
            "PORTAL_MODEL_STORAGE": str(store),
        }
        return Worker(sorted(queues.values()), tmp_path / f"{label}.log", env, name=f"{label}-{tag}@%h")

    first = host("host-a")
    second = None
    try:
        items = [
            i for i in subset(mp_entry_dicts, {"Li", "Na", "Co", "O"}) if len(i["structure"]["sites"]) <= 24
        ]
        ingest_file(path=write_json(tmp_path / "catalogue.json", items))
        with sending_to_redis():
            job = training_start(kind="structural", preset="demo", n_models=1, epochs=2)
        wait_for(
            lambda: TrainingJob.objects.get(pk=job.pk).status not in TrainingJob.UNFINISHED,
            600,
            "the training on the first host",
            first,
        )
        job.refresh_from_db()
        assert job.status == TrainingJob.Status.SUCCEEDED, job.error
        trained = job.model
        assert trained.is_active and (store / trained.checkpoint_path / "manifest.json").is_file()
        assert cached_versions(tmp_path / "host-a" / "models") == {trained.checkpoint_path}
        first.stop()

        second = host("host-b")
        with sending_to_redis():
            round = round_create(config=CONFIG)
        wait_for(
            lambda: (
                Round.objects.get(pk=round.pk).status
                in (Round.Status.SUCCEEDED, Round.Status.FAILED, Round.Status.CANCELLED)
            ),
            900,
            "the round on the second host",
            second,
        )
        round.refresh_from_db()
        assert round.status == Round.Status.SUCCEEDED, round.error
        assert RoundStage.objects.get(round=round, name="filter").status == "succeeded"
        assert round.candidates.filter(predicted_formation_energy__isnull=False).exists()
        retrained = TrainedModel.objects.get(trained_in_round=round)
        assert retrained.is_active and retrained.split["warm_start"] == trained.name
        # the second host fetched the first host's model; the first never saw the retrained one
        assert cached_versions(tmp_path / "host-b" / "models") == {
            trained.checkpoint_path,
            retrained.checkpoint_path,
        }
        assert cached_versions(tmp_path / "host-a" / "models") == {trained.checkpoint_path}

        # a third host loads the retrained ensemble from the storage alone
        model, ensemble = active_ensemble("structural")
        assert model.pk == retrained.pk
        structures = [s.structure for s in catalogue_samples(hull_set="all")[:4]]
        assert np.all(np.isfinite(ensemble.predict_structures(structures).median))
        assert cached_versions(tmp_path / "here" / "models") == {retrained.checkpoint_path}
    finally:
        first.stop()
        if second is not None:
            second.stop()
        forget_redis_keys(REDIS_URL, tag)
        ml_adapter._loaded.clear()
