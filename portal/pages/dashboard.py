"""The discovery dashboard: rounds, models, training and the launch forms."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from discovery.forms import RoundLaunchForm, TrainingForm
from discovery.permissions import round_launch_allowed, training_start_allowed
from discovery.services import round_create
from discovery.training import training_rates, training_start
from hull.errors import CatalogueError
from portal.pages import charts as page_charts
from portal.pages import figures
from portal.pages import selectors as page_selectors
from portal.pages.benchmark import benchmark_panel
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
    context = {
        "dashboard": dashboard,
        "benchmark": benchmark_panel(request.user),
        "charts": charts,
        "scaling": scaling,
        "launch_form": launch_form,
        "training_form": training_form,
        "training_rates": training_rates() if training_form is not None else None,
    }
    return render(request, "portal/discovery.html", context, status=status)
