"""A discovery round end to end in-process, with the real generators, a tiny trained ensemble, real CHGNet
relaxations and the real catalogue; stages are idempotent; cancelled rounds stop."""

import importlib

import pytest
from django.apps import apps

from discovery.advance import run_round_inline, stage_run
from discovery.ml_adapter import models_train
from discovery.models import Candidate, Round, RoundStage
from discovery.services import round_cancel, round_create
from hull.hull_check import hull_differences
from hull.models import Entry, Stability
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset

pytestmark = pytest.mark.django_db

CONFIG = {
    "elements": ["Li", "Na", "Co", "O"],
    "generators": ["substitution", "saps", "composition"],
    "budget": 12,
    "eval_budget": 3,
    "baseline_size": 1,
    "threshold": 1.0,
    "ensemble_size": 1,
    "volumes": 2,
    "relax_steps": 15,
    "hull_set": "all",
}


@pytest.fixture
def flywheel(tmp_path, mp_entry_dicts, settings):
    settings.PORTAL_MODEL_DIR = tmp_path / "models"
    items = [i for i in subset(mp_entry_dicts, {"Li", "Na", "Co", "O"}) if len(i["structure"]["sites"]) <= 40]
    ingest_file(path=write_json(tmp_path / "catalogue.json", items))
    models_train(kind="structural", config_name="tiny", n_models=1, epochs=2, name="tiny-structural")
    models_train(kind="compositional", config_name="tiny", n_models=1, epochs=2, name="tiny-compositional")


def test_a_round_turns_the_flywheel(flywheel):
    entries_before = Entry.objects.count()
    round = run_round_inline(round_create(config=CONFIG, enqueue=False))
    assert round.status == Round.Status.SUCCEEDED, round.error
    assert list(round.stages.values_list("status", flat=True)) == ["succeeded"] * 5 + ["skipped", "succeeded"]
    metrics = round.metrics
    assert 0 < metrics["generated"] <= 12
    assert set(metrics["by_generator"]) <= {"substitution", "saps", "airss"}
    assert (
        metrics["evaluated"] + metrics["failed"]
        == round.candidates.filter(status__in=["evaluated", "failed", "ingested"]).count()
        <= 4
    )
    for key in ("hit_rate", "baseline_hit_rate", "model_mae", "new_stable", "pushed_off_hull"):
        assert key in metrics
    # what the stages keep between them is the round's state, not one of its metrics
    assert {"parents", "stable_before"} <= set(round.state) and not {"parents", "stable_before"} & set(
        metrics
    )
    # the baseline is drawn from all generated candidates, so it may overlap the kept ones; each is evaluated once
    kept = set(round.candidates.filter(kept=True).values_list("pk", flat=True))
    sampled = set(round.candidates.filter(baseline=True).values_list("pk", flat=True))
    assert metrics["kept"] == len(kept) <= CONFIG["eval_budget"]
    assert len(sampled) == min(CONFIG["baseline_size"], metrics["generated"])
    assert set(round.candidates.exclude(status="rejected").values_list("pk", flat=True)) == kept | sampled
    judged = round.candidates.filter(decomposition_energy__isnull=False)
    assert metrics["hits"] == judged.filter(kept=True, decomposition_energy__lte=0).count()
    assert metrics["baseline_hits"] == judged.filter(baseline=True, decomposition_energy__lte=0).count()
    new = Entry.objects.filter(source="discovery")
    assert new.count() == round.candidates.filter(status=Candidate.Status.INGESTED).count() > 0
    assert Entry.objects.count() == entries_before + new.count()
    assert set(new.values_list("method", flat=True)) == {"CHGNet 0.3.0"}
    # CHGNet results join the "all" hull only; the DFT hull is untouched
    assert not Stability.objects.filter(entry__in=new, hull_set="dft").exists()
    assert round.batch_id is not None and set(new.values_list("batch_id", flat=True)) == {round.batch_id}
    assert hull_differences() == []
    ingest = round.stages.get(name="ingest")
    assert ingest.total == ingest.done == new.count()

    # stages run again, as after a worker died mid-stage: nothing is added twice
    candidates = round.candidates.count()
    for name in ("generate", "ingest"):
        RoundStage.objects.filter(round=round, name=name).update(status=RoundStage.Status.RUNNING)
        assert stage_run(round, name)
        assert RoundStage.objects.get(round=round, name=name).status == RoundStage.Status.SUCCEEDED
    assert round.candidates.count() == candidates
    assert Entry.objects.filter(source="discovery").count() == new.count()
    assert hull_differences() == []


def test_a_cancelled_round_stops(flywheel):
    round = round_create(config=CONFIG, enqueue=False)
    round_cancel(round=round)
    round = run_round_inline(round)
    assert round.status == Round.Status.CANCELLED
    assert not round.candidates.exists()
    assert set(round.stages.values_list("status", flat=True)) == {RoundStage.Status.CANCELLED}


def test_run_discovery_prints_the_round_table_and_reports_stored_rounds(flywheel, capsys):
    from django.core.management import call_command

    args = ["--budget", "12", "--eval-budget", "3", "--baseline-size", "1", "--elements", "Li,Na,Co,O"]
    args += ["--threshold", "1.0", "--ensemble-size", "1", "--volumes", "2", "--relax-steps", "15"]
    call_command("run_discovery", "--rounds", "1", *args)
    lines = capsys.readouterr().out.strip().splitlines()
    header, row = lines[0], lines[-1]
    round = Round.objects.get()
    metrics = round.metrics
    assert header.split()[:3] == ["round", "status", "generated"]
    cells = row.split()
    assert cells[:6] == [
        "1",
        "succeeded",
        str(metrics["generated"]),
        str(metrics["kept"]),
        str(metrics["evaluated"]),
        str(metrics["failed"]),
    ]
    call_command("run_discovery", "--report")
    reported = capsys.readouterr().out.strip().splitlines()
    assert reported[0] == header and len(reported) == 2, lines
    assert reported[1].split()[:-1] == cells[:-1]
    assert Round.objects.count() == 1  # --report launches nothing


def test_the_state_migration_moves_scratch_keys_out_of_the_metrics():
    migration = importlib.import_module("discovery.migrations.0007_round_state")
    round = Round.objects.create(
        number=1, metrics={"parents": ["mp-1"], "stable_before": [3], "hit_rate": 0.5}
    )
    migration.scratch_to_state(apps, None)
    round.refresh_from_db()
    assert round.metrics == {"hit_rate": 0.5}
    assert round.state == {"parents": ["mp-1"], "stable_before": [3]}
    migration.state_to_scratch(apps, None)
    round.refresh_from_db()
    assert round.metrics == {"parents": ["mp-1"], "stable_before": [3], "hit_rate": 0.5}
