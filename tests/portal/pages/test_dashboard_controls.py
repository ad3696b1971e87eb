"""Cancel, retry and resume buttons on the dashboard: shown only to users with the launch permission and only where
they apply, POST with CSRF, the same rule as the admin's bulk actions (``discovery.control``), clear messages on
success and refusal; the hull comparison offered only where it has data; human labels on the launch and training
forms."""

import pytest
from django.test import Client

from discovery.control import ROUND_ACTIONS
from discovery.forms import RoundLaunchForm, TrainingForm
from discovery.labels import LABELLED
from discovery.models import Round, RoundStage
from discovery.services import round_create
from tests.conftest import grant

pytestmark = pytest.mark.django_db

CONFIG = {"elements": ["Li", "O"], "generators": ["substitution"], "budget": 20, "eval_budget": 2}


def act(number: int, action: str) -> str:
    return f"/discovery/rounds/{number}/{action}/"


@pytest.fixture
def round_(catalogue):
    return round_create(config=CONFIG, enqueue=False)


@pytest.fixture
def launcher(django_user_model):
    user = django_user_model.objects.create_user("launcher", password="pw", is_staff=True)
    grant(user, "discovery.launch_round")
    return user


def buttons(html: str, number: int) -> dict[str, bool]:
    """Each action button of a round section: whether it is shown (not ``hidden``)."""
    section = html[html.index(f'id="round-{number}"') :]
    section = section[: section.index("</section>")]
    shown = {}
    for name in ROUND_ACTIONS:
        marker = f'id="round-{number}-{name}"'
        if marker in section:
            tag = section[section.index(marker) :]
            shown[name] = " hidden" not in tag[: tag.index(">")]
    return shown


def tag_of(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[html.rindex("<", 0, start) : html.index(">", start)]


def test_staff_with_the_permission_see_the_buttons_that_apply(client, launcher, round_):
    client.force_login(launcher)
    html = client.get("/discovery/").content.decode()
    assert buttons(html, 1) == {"cancel": True, "retry": False, "resume": True}
    assert "csrfmiddlewaretoken" in html[html.index('id="round-1-actions"') :]
    # only what cannot be undone asks first (dashboard.js reads data-confirm)
    asks = {name: 'data-confirm="' in tag_of(html, f"round-1-{name}") for name in ROUND_ACTIONS}
    assert asks == {"cancel": True, "retry": False, "resume": False}


@pytest.mark.parametrize("who", ["anonymous", "user", "staff without the permission"])
def test_others_see_no_buttons_and_may_not_post(client, django_user_model, round_, who):
    if who != "anonymous":
        user = django_user_model.objects.create_user("x", password="pw", is_staff=who.startswith("staff"))
        client.force_login(user)
    assert buttons(client.get("/discovery/").content.decode(), 1) == {}
    assert client.post(act(1, "cancel")).status_code == 403
    assert Round.objects.get().status == Round.Status.PENDING


def test_cancel_then_retry_then_cancel_again(client, launcher, round_, django_capture_on_commit_callbacks):
    client.force_login(launcher)
    response = client.post(act(1, "cancel"), follow=True)
    assert response.redirect_chain == [("/discovery/#round-1", 302)]
    html = response.content.decode()
    assert "Round 1 cancelled." in html
    round_.refresh_from_db()
    assert round_.status == Round.Status.CANCELLED and round_.finished_at is not None
    assert set(round_.stages.values_list("status", flat=True)) == {RoundStage.Status.CANCELLED}
    assert buttons(html, 1) == {"cancel": False, "retry": True, "resume": False}
    assert 'id="round-1-compare"' not in html  # a cancelled round has no hull to compare with

    with django_capture_on_commit_callbacks() as callbacks:
        html = client.post(act(1, "retry"), follow=True).content.decode()
    assert "Round 1 put back in the queue." in html and len(callbacks) == 1
    round_.refresh_from_db()
    assert round_.status == Round.Status.PENDING and round_.dispatch == 1


def test_refusals_say_why(client, launcher, round_):
    client.force_login(launcher)
    html = client.post(act(1, "retry"), follow=True).content.decode().replace("&#x27;", "'")
    assert "Round 1 not changed: round 1 is pending; only failed or cancelled rounds can be retried" in html
    html = client.post(act(1, "explode"), follow=True).content.decode().replace("&#x27;", "'")
    assert "Round 1 not changed: unknown action 'explode'" in html
    assert client.post(act(99, "cancel")).status_code == 404
    assert client.get(act(1, "cancel")).status_code == 405
    assert Round.objects.get().status == Round.Status.PENDING


def test_resume_starts_a_new_dispatch(client, launcher, round_, django_capture_on_commit_callbacks):
    client.force_login(launcher)
    with django_capture_on_commit_callbacks() as callbacks:
        html = client.post(act(1, "resume"), follow=True).content.decode()
    assert "Round 1 resumed." in html and len(callbacks) == 1
    assert Round.objects.get().dispatch == 1


def test_csrf_is_checked(launcher, round_):
    client = Client(enforce_csrf_checks=True)
    client.force_login(launcher)
    assert client.post(act(1, "cancel")).status_code == 403
    assert Round.objects.get().status == Round.Status.PENDING


def test_the_admin_acts_through_the_same_rule(admin_client, round_):
    response = admin_client.post(
        "/admin/discovery/round/", {"action": "retry", "_selected_action": [round_.pk]}, follow=True
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "round 1 is pending; only failed or cancelled rounds can be retried" in html.lower()
    admin_client.post("/admin/discovery/round/", {"action": "cancel", "_selected_action": [round_.pk]})
    assert Round.objects.get().status == Round.Status.CANCELLED


def test_hull_comparison_only_where_it_has_data(client, discovery_round):
    first, second = discovery_round
    Round.objects.filter(pk=second.pk).update(config={**CONFIG, "chemsys": ["Co-Li-O"]})
    html = client.get("/discovery/").content.decode()
    assert 'id="round-1-compare"' not in html  # added no entries
    link = html[html.index('id="round-2-compare"') - 120 :]
    assert "chemsys=Co-Li-O" in link and "round=2" in link
    page = client.get("/phase-diagram/", {"chemsys": "Co-Li-O", "hull_set": "all", "round": 2})
    assert page.status_code == 200 and page.context["round"].number == 2 and page.context["stable"]


def test_forms_speak_in_words():
    for labels, values in LABELLED:
        assert set(labels) == set(values)
    launch = str(RoundLaunchForm().as_div())
    assert (
        "Partial substitution by symmetry (SAPS" in launch
        and "Lowest predicted energy of each composition" in launch
    )
    assert ">saps<" not in launch and ">per_composition<" not in launch and "Ensemble size:" not in launch
    for field in (*RoundLaunchForm.base_fields.values(), *TrainingForm.base_fields.values()):
        assert field.label and field.help_text, field.label
    training = str(TrainingForm().as_div())
    assert "Models in the ensemble" in training and "Epochs per model" in training
