"""Staff launch a discovery round from the dashboard page; nobody else sees the form or may post it.

Rounds are created for real; the enqueue runs on commit, which the per-test transaction never reaches, so
no Celery worker is needed: the tests only check that exactly one enqueue was scheduled."""

import pytest
from django.test import Client

from discovery.config import RoundConfig
from discovery.models import Round

pytestmark = pytest.mark.django_db

LAUNCH = "/discovery/launch/"

FORM = {
    "elements": "Li, Mn, O",
    "chemsys": "Li-Co-O",
    "generators": ["substitution", "composition"],
    "budget": "200",
    "eval_budget": "50",
    "baseline_size": "10",
    "threshold": "0.08",
    "selection": "per_composition",
    "evaluator": "vasp",
    "ensemble_size": "4",
    "random_structures": "7",
    "retrain": "on",
    "launch_hull_set": "dft",
}


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("someone", password="pw")


def test_staff_sees_the_launch_form(admin_client):
    response = admin_client.get("/discovery/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="launch-form"' in html and f'action="{LAUNCH}"' in html and "csrfmiddlewaretoken" in html
    for name in (
        "elements",
        "chemsys",
        "budget",
        "eval_budget",
        "threshold",
        "ensemble_size",
        "random_structures",
        "retrain",
    ):
        assert f'name="{name}"' in html
    for choice in ("substitution", "saps", "composition", "chgnet", "vasp"):
        assert f'value="{choice}"' in html


def test_anonymous_sees_no_form_and_may_not_post(client):
    assert 'id="launch-form"' not in client.get("/discovery/").content.decode()
    assert client.post(LAUNCH, FORM).status_code == 403
    assert not Round.objects.exists()


def test_non_staff_sees_no_form_and_may_not_post(client, user):
    client.force_login(user)
    assert 'id="launch-form"' not in client.get("/discovery/").content.decode()
    assert client.post(LAUNCH, FORM).status_code == 403
    assert not Round.objects.exists()


def test_launch_is_post_only(admin_client):
    assert admin_client.get(LAUNCH).status_code == 405


def test_staff_launch_creates_one_round(
    admin_client, admin_user, django_capture_on_commit_callbacks, active_models
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(LAUNCH, FORM)
    assert response.status_code == 302 and response["Location"] == "/discovery/"
    assert len(callbacks) == 1  # the enqueue, run once the launch has committed
    round = Round.objects.get()
    assert round.number == 1 and round.status == Round.Status.PENDING and round.created_by == admin_user
    assert round.hull_set == "dft" and round.stages.count() == 7
    config = round.config
    assert config["elements"] == ["Li", "Mn", "O"] and config["chemsys"] == ["Co-Li-O"]
    assert config["generators"] == ["substitution", "composition"]
    assert (config["budget"], config["eval_budget"], config["baseline_size"]) == (200, 50, 10)
    assert config["threshold"] == pytest.approx(0.08)
    assert (config["evaluator"], config["ensemble_size"], config["retrain"]) == ("vasp", 4, True)
    assert config["random_structures"] == 7
    # left empty (a form posted by the admin or an older page): the paper's number
    with django_capture_on_commit_callbacks():
        admin_client.post(LAUNCH, {**FORM, "random_structures": ""})
    assert Round.objects.get(number=2).config["random_structures"] == RoundConfig().random_structures
    html = admin_client.get(response["Location"]).content.decode()
    assert "Round 1 launched." in html and 'id="round-1"' in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("threshold", "2", "threshold must lie between -1 and 1 eV/atom"),
        ("threshold", "lots", "Enter a number."),
        ("elements", "Li, Xx", "unknown element"),
        ("chemsys", "Li-Li-O", "repeats an element"),
        ("random_structures", "0", "greater than or equal to 1"),
        ("random_structures", "10001", "less than or equal to 10000"),
    ],
)
def test_bad_input_is_shown_beside_its_field(admin_client, field, value, message):
    response = admin_client.post(LAUNCH, {**FORM, field: value})
    assert response.status_code == 400
    assert list(response.context["launch_form"].errors) == [field]
    html = response.content.decode()
    assert f'id="error-{field}"' in html and message in html.replace("&#x27;", "'")
    assert not Round.objects.exists()


def test_a_launch_needs_a_scope(admin_client):
    response = admin_client.post(LAUNCH, {**FORM, "elements": "", "chemsys": ""})
    assert response.status_code == 400 and "a round needs a scope" in response.content.decode()
    assert not Round.objects.exists()


def test_csrf_stays_on(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(LAUNCH, FORM).status_code == 403
    assert not Round.objects.exists()
