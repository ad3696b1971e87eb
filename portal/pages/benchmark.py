"""The dashboard's rediscovery benchmark panel: the latest stored report, its chart (recall against
evaluations spent, filtered and baseline), the metric definitions, and the administrators' launch form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from discovery.benchmark.forms import BenchmarkLaunchForm
from discovery.benchmark.report import HEADER, benchmark_rows
from discovery.benchmark.services import benchmark_launch
from discovery.benchmark.store import benchmark_latest
from discovery.metrics import METRIC_DEFINITIONS
from discovery.permissions import benchmark_launch_allowed
from hull.errors import CatalogueError
from portal.pages.figures import STABLE_COLOUR, Figure, _figure, _layout, _trace, figure_json

BASELINE_COLOUR = "#8d99ae"


def benchmark_recall_figure(report: dict) -> Figure:
    """Cumulative recall of hidden DFT-stable phases against cumulative evaluations, both arms."""
    traces = []
    for arm, colour in (("filtered", STABLE_COLOUR), ("baseline", BASELINE_COLOUR)):
        points = [(0, 0.0)] + [
            (r["cumulative"][arm]["evaluations"], 100 * (r["cumulative"][arm]["recall"] or 0.0))
            for r in report["rounds"]
        ]
        traces.append(
            _trace(
                "scatter",
                x=[p[0] for p in points],
                y=[p[1] for p in points],
                mode="lines+markers",
                name="filtered (model)" if arm == "filtered" else "random baseline",
                marker={"color": colour},
            )
        )
    return _layout(
        _figure(traces),
        height=300,
        xaxis={"title": {"text": "evaluations spent"}},
        yaxis={"title": {"text": "hidden DFT-stable phases rediscovered (%)"}, "rangemode": "tozero"},
    )


def benchmark_panel(user) -> dict:
    """What the dashboard's benchmark section shows."""
    report = benchmark_latest()
    finished = bool(report and report.get("rounds"))  # a running job shows the rounds it finished
    return {
        "report": report,
        "header": [cell.strip() for cell in HEADER.strip("|").split("|")],
        "rows": benchmark_rows(report) if finished else [],
        "chart": figure_json(benchmark_recall_figure(report)) if finished else None,
        "definitions": METRIC_DEFINITIONS,
        "form": BenchmarkLaunchForm(auto_id="id_benchmark_%s") if benchmark_launch_allowed(user) else None,
    }


@require_POST
def discovery_benchmark_launch(request: HttpRequest) -> HttpResponse:
    """Administrators launch a benchmark job from the dashboard."""
    if not benchmark_launch_allowed(request.user):
        raise PermissionDenied(
            "launching the benchmark needs staff status and the discovery.launch_round permission"
        )
    form = BenchmarkLaunchForm(request.POST)
    if not form.is_valid():
        messages.error(
            request, "Benchmark not launched: " + "; ".join(e for errs in form.errors.values() for e in errs)
        )
        return redirect("discovery")
    try:
        name = benchmark_launch(options=form.options(), user=request.user)
    except CatalogueError as exc:
        messages.error(request, f"Benchmark not launched: {exc}")
    else:
        messages.success(request, f"Benchmark {name} queued.")
    return redirect("discovery")
