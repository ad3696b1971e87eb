"""Pages. Thin: they parse the request, call a selector and render (:mod:`portal.pages.rendering`). The home
page, the phase diagram and the local plotly assets live here; the search, material, family and dashboard
pages have modules of their own."""

import plotly
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from hull import selectors
from hull.errors import CatalogueError
from hull.hull_sets import HULL_SETS
from hull.phase_diagrams import parse_system, phase_diagram_get
from portal.api.throttling import throttle_exempt
from portal.downloads import structure_download
from portal.pages import charts as page_charts
from portal.pages import diagram_files, figures
from portal.pages import selectors as page_selectors
from portal.pages.diagrams import diagram_context, diagram_form
from portal.pages.plotly_assets import PLOTLY_JS, plotly_css
from portal.pages.rendering import catalogue_errors, hull_set_from, render


@catalogue_errors()
def home(request: HttpRequest) -> HttpResponse:
    stats = selectors.catalogue_stats(hull_set=hull_set_from(request))
    growth = page_selectors.stable_growth(hull_set=stats["hull_set"])
    charts = {
        "by_nelements": figures.figure_json(page_charts.stable_by_nelements(stats["stable_by_nelements"])),
        "growth": figures.figure_json(page_charts.stable_growth(growth)),
        "rounds": figures.figure_json(page_charts.stable_by_round(growth)) if growth["rounds"] else None,
    }
    context = {
        "stats": stats,
        "hull_sets": list(HULL_SETS),
        "charts": charts,
        "catalogue_elements": selectors.catalogue_elements(),
    }
    return render(request, "portal/home.html", context)


@require_GET
def phase_diagram(request: HttpRequest) -> HttpResponse:
    """The diagram; a refused request shows its message above the form as the user filled it (status 400)."""
    context = {"hull_sets": list(HULL_SETS), "rounds": page_selectors.finished_rounds()}
    context.update(diagram_form(request.GET))
    try:
        diagram_context(request.GET, context)
    except CatalogueError as exc:
        return render(request, "portal/phase_diagram.html", {**context, "error": str(exc)}, status=400)
    return render(request, "portal/phase_diagram.html", context)


@catalogue_errors()
def phase_diagram_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The diagram's entries (the page's query: chemsys, hull_set) as CSV or as the REST API's JSON."""
    if fmt not in diagram_files.FORMATS:
        raise Http404(f"unknown format {fmt!r}")
    chemsys = "-".join(parse_system(request.GET.get("chemsys", "")))
    data = phase_diagram_get(chemsys=chemsys, hull_set=hull_set_from(request))
    return structure_download(diagram_files.diagram_file(data, fmt=fmt))


@throttle_exempt  # an asset of every page, cached by browsers for a year
def plotly_js(request: HttpRequest, version: str) -> FileResponse:
    """plotly.js from the installed plotly package (no CDN); the version in the URL makes it cacheable."""
    if version != plotly.__version__:
        raise Http404("unknown plotly version")
    response = FileResponse(open(PLOTLY_JS, "rb"), content_type="text/javascript")  # noqa: SIM115
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@throttle_exempt
def plotly_stylesheet(request: HttpRequest, version: str) -> HttpResponse:
    """plotly.js's style rules as a style sheet (:mod:`portal.pages.plotly_assets`): no inline styles needed."""
    if version != plotly.__version__:
        raise Http404("unknown plotly version")
    response = HttpResponse(plotly_css(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
