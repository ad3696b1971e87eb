"""Staff launch, cancel, retry and resume rounds from the Django admin; others cannot."""

import pytest

from discovery import services
from discovery.models import Round

pytestmark = pytest.mark.django_db


def test_admin_launches_a_round(admin_client, monkeypatch, django_capture_on_commit_callbacks, active_models):
    enqueued = []
    monkeypatch.setattr(services, "round_enqueue", enqueued.append)
    form = {
        "elements": "Li, Mn, O",
        "chemsys": "",
        "generators": ["substitution", "saps"],
        "budget": "200",
        "eval_budget": "50",
        "baseline_size": "10",
        "threshold": "0.05",
        "selection": "per_composition",
        "evaluator": "chgnet",
        "ensemble_size": "4",
        "launch_hull_set": "all",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/discovery/round/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    round = Round.objects.get()
    assert round.config["elements"] == ["Li", "Mn", "O"] and round.config["budget"] == 200
    assert round.stages.count() == 7 and enqueued == [round]
    response = admin_client.post(
        "/admin/discovery/round/", {"action": "cancel", "_selected_action": [round.pk]}
    )
    assert response.status_code == 302
    round.refresh_from_db()
    assert round.status == Round.Status.CANCELLED


def test_admin_form_reports_bad_scope(admin_client):
    response = admin_client.post(
        "/admin/discovery/round/add/",
        {
            "elements": "Xx",
            "generators": ["saps"],
            "budget": "10",
            "eval_budget": "5",
            "baseline_size": "0",
            "threshold": "0.05",
            "selection": "per_composition",
            "evaluator": "chgnet",
            "ensemble_size": "1",
            "launch_hull_set": "all",
        },
    )
    assert response.status_code == 200 and "unknown element" in response.content.decode()
    assert not Round.objects.exists()


def test_non_staff_cannot_launch(client, django_user_model):
    user = django_user_model.objects.create_user("someone", password="pw")
    client.force_login(user)
    assert client.get("/admin/discovery/round/add/").status_code == 302  # to the admin login
