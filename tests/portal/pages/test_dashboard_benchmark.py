"""The dashboard's benchmark panel: a stored report is drawn (table, chart, definitions); administrators (staff
holding discovery.launch_round) launch a job, nobody else sees the form or may post it. The enqueue runs on
commit, which the per-test transaction never reaches: the tests check that exactly one was scheduled."""

import json

import pytest

from discovery.benchmark.store import benchmark_dir, benchmark_save
from discovery.metrics import HIT_TOLERANCE, Outcome, acceleration, arm_metrics
from tests.conftest import grant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(tmp_path, settings):
    settings.VAR_DIR = tmp_path


def _report() -> dict:
    """A two-round report in the runner's shape, from real metric functions."""
    rounds, found = [], []
    for number, outcomes in ((1, [Outcome(False, True, -0.01, True, "mp-1"), Outcome(True, False)]), (2, [])):
        found += [o.rediscovered for o in outcomes if o.rediscovered]
        arm = {**arm_metrics(outcomes), "recall": len(found) / 4}
        base = {**arm_metrics([Outcome(False, True, 0.2)]), "recall": 0.0}
        cumulative = {
            "filtered": {"evaluations": 2, "rediscovered": len(found), "recall": len(found) / 4},
            "baseline": {"evaluations": number, "rediscovered": 0, "recall": 0.0},
            "acceleration": acceleration(len(found), 2, 0, number),
        }
        rounds.append(
            {
                "round": number,
                "filtered": arm,
                "baseline": base,
                "cumulative": cumulative,
                "reachable": {"generated": 1, "kept": 1},
                "seconds": {"generate": 1.0, "filter": 2.0, "evaluate": 3.0},
            }
        )
    return {
        "status": "succeeded",
        "command": "manage.py discovery_benchmark --rounds 2",
        "holdout": {"hidden_entries": 9, "hidden_compositions": 3, "hidden_stable": 4, "visible_entries": 90},
        "model": {"config": "tiny", "members": 1, "test_mae": 0.2, "n_train": 80},
        "evaluator": "CHGNet 0.3.0",
        "hit_tolerance": HIT_TOLERANCE,
        "rounds": rounds,
        "seconds": 12.0,
    }


def test_the_dashboard_draws_the_latest_report(client):
    benchmark_save("benchmark-test", _report())
    html = client.get("/discovery/").content.decode()
    assert 'id="benchmark-table"' in html and 'data-figure="fig-benchmark"' in html
    assert "manage.py discovery_benchmark --rounds 2" in html
    assert "predicted by CHGNet 0.3.0" in html  # the evaluator is named beside the numbers
    assert 'id="metric-definitions"' in html and "1 meV/atom below the hull" in html
    assert "25.0%" in html  # cumulative recall: 1 of 4 hidden stable phases
    assert 'id="benchmark-form"' not in html  # the public sees no launch form


def test_administrators_launch_a_job(client, django_user_model, django_capture_on_commit_callbacks):
    admin = django_user_model.objects.create_user("admin", password="pw", is_staff=True)
    grant(admin, "discovery.launch_round")
    client.force_login(admin)
    assert 'id="benchmark-form"' in client.get("/discovery/").content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/discovery/benchmark/", {"rounds": 2, "budget": 50, "eval_budget": 3, "seed": 1}
        )
    assert response.status_code == 302
    assert len(callbacks) == 1
    (stored,) = benchmark_dir().glob("*.json")
    report = json.loads(stored.read_text())
    assert (
        report["status"] == "queued" and report["options"]["rounds"] == 2 and report["options"]["seed"] == 1
    )


def test_others_may_not_launch(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)  # no permission
    client.force_login(staff)
    assert 'id="benchmark-form"' not in client.get("/discovery/").content.decode()
    assert (
        client.post(
            "/discovery/benchmark/", {"rounds": 1, "budget": 5, "eval_budget": 1, "seed": 0}
        ).status_code
        == 403
    )
    assert not list(benchmark_dir().glob("*.json"))
