"""Training jobs: which models a round needs, queueing a training (one per kind at a time), running it with its
progress, the first start's demo ensemble, the dashboard's models, training form and refusal to launch."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from discovery.models import TrainedModel, TrainingJob
from discovery.training import (
    ModelsMissing,
    models_bootstrap,
    models_check,
    models_required,
    training_rate,
    training_run,
    training_samples_count,
    training_start,
)
from hull.errors import CatalogueError
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import grant, subset

pytestmark = pytest.mark.django_db

LAUNCH = {
    "elements": "Li, Mn, O",
    "generators": ["substitution", "saps"],
    "budget": "20",
    "eval_budget": "5",
    "baseline_size": "0",
    "threshold": "0.05",
    "selection": "per_composition",
    "evaluator": "chgnet",
    "ensemble_size": "2",
    "launch_hull_set": "all",
}


@pytest.fixture
def tiny_demo(settings, tmp_path):
    """The demo preset as the tests train it: the tiny config, one member, two epochs."""
    settings.PORTAL_DEMO_MODEL_CONFIG = "tiny"
    settings.PORTAL_DEMO_MODEL_MEMBERS = 1
    settings.PORTAL_DEMO_MODEL_EPOCHS = 2
    settings.PORTAL_MODEL_DIR = tmp_path / "models"


@pytest.fixture
def li_mn_o(tmp_path, mp_entry_dicts):
    items = [i for i in subset(mp_entry_dicts, {"Li", "Mn", "O"}) if len(i["structure"]["sites"]) <= 16]
    return ingest_file(path=write_json(tmp_path / "li-mn-o.json", items))


def test_a_round_needs_the_structural_model_and_the_composition_generator_the_compositional_one():
    assert models_required(generators=["substitution", "saps"]) == ["structural"]
    assert models_required(generators=["composition"]) == ["structural", "compositional"]
    with pytest.raises(ModelsMissing) as refused:
        models_check(generators=["substitution"], ensemble_size=1)
    assert refused.value.kinds == ["structural"] and "No active structural model" in str(refused.value)


def test_a_training_is_queued_on_commit_and_one_per_kind_at_a_time(
    tiny_demo, li_mn_o, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = training_start(kind="structural")
    assert len(callbacks) == 1
    assert (job.config_name, job.n_models, job.epochs, job.total, job.status) == ("tiny", 1, 2, 2, "pending")
    assert job.estimate_seconds > 0
    with pytest.raises(CatalogueError, match="already being trained"):
        training_start(kind="structural", preset="full")
    assert training_start(kind="compositional", n_models=2, epochs=3).total == 6
    for bad in ({"n_models": 0}, {"epochs": 0}, {"preset": "huge"}, {"kind": "quantum"}):
        with pytest.raises(CatalogueError):
            training_start(**{"kind": "structural", **bad})
    # the message of a round refused meanwhile says the model is on its way
    with pytest.raises(ModelsMissing, match="one of 1 members is being trained"):
        models_check(generators=["saps"], ensemble_size=1)


def test_a_job_trains_registers_and_activates_with_its_progress(tiny_demo, li_mn_o):
    job = training_start(kind="structural")
    done = training_run(job_id=job.pk)
    assert done.status == TrainingJob.Status.SUCCEEDED and done.done == done.total == 2
    assert done.model.is_active and done.model.kind == "structural" and done.model.n_models == 1
    assert done.model.metrics["test_mae"] > 0 and done.started_at <= done.finished_at
    assert training_run(job_id=job.pk) is None  # a second delivery of its task does nothing
    # the next estimate learns from this one
    rate = training_rate(config_name="tiny", kind="structural", samples=training_samples_count())
    elapsed = (done.finished_at - done.started_at).total_seconds()
    assert rate.seconds(n_models=1, epochs=2) == pytest.approx(
        elapsed, rel=0.1
    )  # the estimate is kept to 0.1 s
    models_check(generators=["saps"], ensemble_size=1)  # nothing missing now
    with pytest.raises(ModelsMissing, match="train_models --kind structural --models 2"):
        models_check(generators=["saps"], ensemble_size=2)  # one member is not two


def test_a_failed_training_says_why(tiny_demo):
    job = training_start(kind="structural")  # an empty catalogue: nothing to train on
    with pytest.raises(CatalogueError, match="too few entries"):
        training_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == TrainingJob.Status.FAILED and "too few entries" in job.error


def test_the_first_start_queues_the_demo_ensemble_once(
    tiny_demo, li_mn_o, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        job = models_bootstrap()
    assert job.kind == "structural" and job.config_name == "tiny" and "first start" in job.reason
    assert models_bootstrap() is None  # being trained
    # a stop cut it off: the next start (no worker yet) fails it and queues it again
    TrainingJob.objects.filter(pk=job.pk).update(status=TrainingJob.Status.RUNNING, done=1)
    with django_capture_on_commit_callbacks():
        again = models_bootstrap(interrupted=True)
    assert again.pk != job.pk and TrainingJob.objects.get(pk=job.pk).status == TrainingJob.Status.FAILED
    TrainingJob.objects.all().delete()
    TrainedModel.objects.create(name="m", kind="structural", checkpoint_path="/x", is_active=True)
    assert models_bootstrap() is None  # a model is active


def test_an_empty_catalogue_trains_nothing_on_first_start(tiny_demo):
    assert models_bootstrap() is None and not TrainingJob.objects.exists()


def test_run_discovery_refuses_early_without_the_model(li_mn_o):
    with pytest.raises(CommandError, match="No active structural model"):
        call_command(
            "run_discovery", "--rounds", "1", "--budget", "20", "--eval-budget", "5", "--elements", "Li,Mn,O"
        )


# --- the dashboard ----------------------------------------------------------------------------------------


def test_the_dashboard_shows_active_models_and_training_jobs(client, tiny_demo, li_mn_o):
    job = training_start(kind="structural")
    html = client.get("/discovery/").content.decode()
    assert 'id="no-active-models"' in html and f'id="training-{job.pk}"' in html
    assert 'id="live-status"' in html  # a pending training: the page polls its status
    assert 'id="training-form"' not in html  # the public cannot train
    training_run(job_id=job.pk)
    html = client.get("/discovery/").content.decode()
    model = TrainedModel.objects.get(is_active=True)
    assert 'id="active-structural"' in html and model.name in html
    assert (
        f"{model.metrics['test_mae']:.3f}" in html and f"{model.n_train} train / {model.n_test} test" in html
    )
    assert 'id="live-status"' not in html


def test_staff_train_from_the_dashboard_with_an_estimate(
    admin_client, tiny_demo, li_mn_o, django_capture_on_commit_callbacks
):
    html = admin_client.get("/discovery/").content.decode()
    assert 'id="training-form"' in html and 'id="training-rates"' in html and 'id="training-estimate"' in html
    for name in ("kind", "preset", "n_models", "epochs"):
        assert f'name="{name}"' in html
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(
            "/discovery/train/", {"kind": "structural", "preset": "demo", "n_models": "1"}
        )
    assert response.status_code == 302 and len(callbacks) == 1
    job = TrainingJob.objects.get()
    assert (job.kind, job.n_models, job.epochs) == ("structural", 1, 2)
    assert "Training of a structural ensemble queued" in admin_client.get("/discovery/").content.decode()
    refused = admin_client.post(
        "/discovery/train/", {"kind": "structural", "preset": "demo", "n_models": "1"}
    )
    assert refused.status_code == 400 and "already being trained" in refused.content.decode()


def test_training_needs_staff_and_the_permission(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="pw", is_staff=True)
    client.force_login(user)
    form = {"kind": "structural", "preset": "demo", "n_models": "1"}
    assert client.post("/discovery/train/", form).status_code == 403
    grant(user, "discovery.add_trainingjob")
    client = Client()
    client.force_login(django_user_model.objects.get(pk=user.pk))
    assert 'id="training-form"' in client.get("/discovery/").content.decode()
    assert client.get("/discovery/train/").status_code == 405


def test_the_launch_form_refuses_without_the_model_and_offers_to_train_it(admin_client, tiny_demo, li_mn_o):
    response = admin_client.post("/discovery/launch/", LAUNCH)
    html = response.content.decode()
    assert response.status_code == 400 and "No active structural model" in html
    assert 'id="train-missing-structural"' in html and 'id="train-structural"' in html
    assert not TrainingJob.objects.exists()
    composition = admin_client.post("/discovery/launch/", {**LAUNCH, "generators": ["composition"]})
    assert "No active compositional model" in composition.content.decode()
