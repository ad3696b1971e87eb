"""Discovery rounds over the API: everyone reads; staff create, cancel and retry; the services' transitions."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from discovery import services
from discovery.models import Round, RoundStage
from discovery.permissions import LAUNCH_ROUND
from hull.errors import CatalogueError
from portal.api.tokens import api_token_create
from tests.conftest import grant

pytestmark = pytest.mark.django_db

CONFIG = {"elements": ["Li", "O"], "generators": ["substitution"], "budget": 100, "threshold": 0.05}


def client_with_token(*, staff: bool) -> APIClient:
    """A client with the token of a staff user who may launch rounds, or of a plain user."""
    user = get_user_model().objects.create_user(
        f"{'staff' if staff else 'user'}", password="x", is_staff=staff
    )
    if staff:
        grant(user, LAUNCH_ROUND)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)}")
    return client


def test_staff_create_cancel_retry(request, django_capture_on_commit_callbacks, monkeypatch):
    enqueued = []
    monkeypatch.setattr(services, "round_enqueue", enqueued.append)
    staff = client_with_token(staff=True)
    # without active models the API refuses, naming the model, as the launch form does
    refused = staff.post("/api/v1/rounds/", {"config": CONFIG}, format="json")
    assert refused.status_code == 400 and "No active structural model" in refused.json()["detail"], (
        refused.content
    )
    assert not Round.objects.exists()
    request.getfixturevalue("active_models")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post("/api/v1/rounds/", {"config": CONFIG}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 1 and body["status"] == "pending" and body["created_by"] == "staff"
    assert [s["name"] for s in body["stages"]] == list(RoundStage.Name.values)
    assert [r.number for r in enqueued] == [1]

    second = staff.post("/api/v1/rounds/", {"config": {"chemsys": ["O-Li"]}}, format="json").json()
    assert second["number"] == 2 and second["config"]["chemsys"] == ["Li-O"]

    cancelled = staff.post("/api/v1/rounds/1/cancel/").json()
    assert cancelled["status"] == "cancelled" and {s["status"] for s in cancelled["stages"]} == {"cancelled"}
    again = staff.post("/api/v1/rounds/1/cancel/")
    assert again.status_code == 400 and "only pending or running" in again.json()["detail"]
    with django_capture_on_commit_callbacks(execute=True):
        retried = staff.post("/api/v1/rounds/1/retry/").json()
    assert retried["status"] == "pending" and {s["status"] for s in retried["stages"]} == {"pending"}
    assert [r.number for r in enqueued] == [1, 1]
    assert staff.post("/api/v1/rounds/2/retry/").status_code == 400
    assert staff.post("/api/v1/rounds/99/cancel/").status_code == 404


def test_everyone_reads_only_staff_write():
    services.round_create(config=CONFIG)
    anonymous = APIClient()
    listing = anonymous.get("/api/v1/rounds/").json()
    assert [r["number"] for r in listing["results"]] == [1]
    assert anonymous.get("/api/v1/rounds/1/").json()["status"] == "pending"
    assert anonymous.post("/api/v1/rounds/", {"config": CONFIG}, format="json").status_code == 401
    assert anonymous.post("/api/v1/rounds/1/cancel/").status_code == 401
    user = client_with_token(staff=False)
    assert user.post("/api/v1/rounds/", {"config": CONFIG}, format="json").status_code == 403
    assert user.post("/api/v1/rounds/1/cancel/").status_code == 403
    assert Round.objects.get(number=1).status == Round.Status.PENDING


@pytest.mark.parametrize(
    "config, message",
    [
        ({}, "needs a scope"),
        ({"elements": ["Xx"]}, "unknown element"),
        ({"elements": ["Li"], "budget": 0}, "budget"),
        ({"elements": ["Li"], "budget": True}, "budget"),
        ({"elements": ["Li"], "generators": ["magic"]}, "unknown generator"),
        ({"elements": ["Li"], "threshold": float("nan")}, "threshold"),
        ({"elements": ["Li"], "evaluator": "gaussian"}, "unknown evaluator"),
        ({"elements": ["Li"], "hull_set": "nope"}, "unknown hull set"),
        ({"elements": ["Li"], "colour": "red"}, "unknown config key"),
        ({"elements": "Li"}, "must be lists"),
    ],
)
def test_config_is_validated(config, message):
    with pytest.raises(CatalogueError, match=message):
        services.round_create(config=config)
    assert not Round.objects.exists()


def test_bad_config_over_the_api_is_400():
    staff = client_with_token(staff=True)
    response = staff.post("/api/v1/rounds/", {"config": {"elements": ["Xx"]}}, format="json")
    assert response.status_code == 400 and "unknown element" in response.json()["detail"]
    assert staff.post("/api/v1/rounds/", {"config": "x"}, format="json").status_code == 400
