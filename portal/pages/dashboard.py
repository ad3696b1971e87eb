"""The discovery dashboard: rounds, models, training and the launch forms."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from discovery.config import RoundConfig
from discovery.control import ROUND_ACTIONS, round_act
from discovery.estimate import round_estimate
from discovery.forms import RoundLaunchForm, TrainingForm
from discovery.models import Round
from discovery.permissions import round_launch_allowed, training_start_allowed
from discovery.services import round_create
from discovery.training import training_rates, training_start
from hull.errors import CatalogueError
from hull.hull_sets import HULL_SETS
from portal.pages import charts as page_charts
from portal.pages import figures, live
from portal.pages import selectors as page_selectors
from portal.pages.benchmark import benchmark_panel
from portal.pages.params import get_int
from portal.pages.rendering import render


def discovery(request: HttpRequest) -> HttpResponse:
    return _discovery_page(request, RoundLaunchForm() if round_launch_allowed(request.user) else None)


@require_POST
def discovery_train(request: HttpRequest) -> HttpResponse:
    """Staff with the training permission queue the training of an ensemble: the form parses,
    ``training_start`` validates and enqueues."""
    if not training_start_allowed(request.user):
        raise PermissionDenied(
            "training models needs staff status and the discovery.add_trainingjob permission"
        )
    form = TrainingForm(request.POST)
    if form.is_valid():
        try:
            job = training_start(
                kind=form.cleaned_data["kind"],
                preset=form.cleaned_data["preset"],
                n_models=form.cleaned_data["n_models"],
                epochs=form.cleaned_data["epochs"],
                reason="started from the dashboard",
                user=request.user,
            )
        except CatalogueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Training of a {job.kind} ensemble queued ({job.n_models} members x {job.epochs} epochs, "
                f"about {job.estimate_seconds / 60:.0f} min).",
            )
            return redirect("discovery")
    launch_form = RoundLaunchForm() if round_launch_allowed(request.user) else None
    return _discovery_page(request, launch_form, status=400, training_form=form)


@require_POST
def discovery_launch(request: HttpRequest) -> HttpResponse:
    """Users with the launch permission launch a round from the dashboard: the form parses, ``round_create``
    validates and enqueues."""
    if not round_launch_allowed(request.user):
        raise PermissionDenied("launching discovery rounds needs the discovery.launch_round permission")
    form = RoundLaunchForm(request.POST)
    if form.is_valid():
        try:
            launched = round_create(config=form.config(), user=request.user, enqueue=True)
        except CatalogueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Round {launched.number} launched.")
            return redirect("discovery")
    return _discovery_page(request, form, status=400)


def _discovery_page(
    request: HttpRequest,
    launch_form: RoundLaunchForm | None,
    status: int = 200,
    training_form: TrainingForm | None = None,
) -> HttpResponse:
    dashboard = page_selectors.dashboard_get()
    if training_form is None and training_start_allowed(request.user):
        training_form = TrainingForm()
    charts = [(name, figures.figure_json(fig)) for name, fig in page_charts.round_metrics(dashboard.rounds)]
    scaling = None
    if dashboard.scaling:
        model, result = dashboard.scaling
        scaling = (model, figures.figure_json(page_charts.scaling(result, f"Data scaling of {model.name}")))
    workers = live.workers_for_dashboard(named=request.user.is_staff)
    benchmark = benchmark_panel(request.user)
    benchmark_live = live.benchmark_live(benchmark["report"], workers)
    context = {
        "dashboard": dashboard,
        "live_open": dashboard.busy
        or bool(benchmark_live and benchmark_live["status"] in live.BENCHMARK_OPEN),
        "benchmark_live": benchmark_live,
        "rounds": live.rounds_view(dashboard.rounds, workers),
        "queues": live.queues_live(workers),
        "training_rows": [(job, live.training_waiting(job, workers)) for job in dashboard.training_jobs],
        "round_actions": ROUND_ACTIONS.values() if round_launch_allowed(request.user) else None,
        "estimate": round_estimate(plan=RoundConfig()) if launch_form is not None else None,
        "benchmark": benchmark,
        "charts": charts,
        "scaling": scaling,
        "launch_form": launch_form,
        "training_form": training_form,
        "training_rates": training_rates() if training_form is not None else None,
    }
    return render(request, "portal/discovery.html", context, status=status)


def _ids(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip().isdigit()][:100]


@require_GET
def discovery_status(request: HttpRequest) -> JsonResponse:
    """What the dashboard polls: the rounds (``?rounds=1,2``) and training jobs (``?training=3``) it shows as
    unfinished, and every other unfinished one, with their progress and why they wait. Read-only."""
    status = live.status_get(
        rounds=_ids(request.GET.get("rounds", "")),
        training=_ids(request.GET.get("training", "")),
        named=request.user.is_staff,
    )
    response = JsonResponse(status)
    response["Cache-Control"] = "no-store"
    return response


ESTIMATED = (
    "budget",
    "eval_budget",
    "baseline_size",
    "ensemble_size",
    "volumes",
    "relax_steps",
    "retrain_epochs",
)


@require_GET
def discovery_estimate(request: HttpRequest) -> JsonResponse:
    """The estimated duration of a round with the launch form's numbers (``?budget=..&ensemble_size=..``, retrain
    and the hull set)."""
    defaults = RoundConfig()
    try:
        numbers = {name: max(0, get_int(request.GET, name, getattr(defaults, name))) for name in ESTIMATED}
    except CatalogueError as exc:
        return JsonResponse({"seconds": None, "text": f"no estimate: {exc}"}, status=400)
    hull_set = request.GET.get("launch_hull_set", defaults.hull_set)
    plan = RoundConfig(
        **numbers,
        retrain=request.GET.get("retrain") in ("on", "true", "1"),
        hull_set=hull_set if hull_set in HULL_SETS else defaults.hull_set,
    )
    return JsonResponse(round_estimate(plan=plan).as_dict())


@require_POST
def discovery_round_action(request: HttpRequest, number: int, action: str) -> HttpResponse:
    """Staff with the launch permission cancel, retry or resume a round from its section of the dashboard."""
    round = get_object_or_404(Round, number=number)
    try:
        messages.success(request, round_act(round=round, action=action, user=request.user))
    except CatalogueError as exc:
        messages.error(request, f"Round {number} not changed: {exc}")
    return redirect(reverse("discovery") + f"#round-{number}")
