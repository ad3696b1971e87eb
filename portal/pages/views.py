"""Pages. Thin: they parse the request, call a selector and render. A ``CatalogueError`` becomes a clear
message on the page (status 400, or 404 for an unknown material), never a 500."""

from dataclasses import fields as dataclass_fields
from functools import wraps

import plotly
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.views.decorators.http import require_GET, require_POST

from discovery.forms import RoundLaunchForm, TrainingForm
from discovery.permissions import round_launch_allowed, training_start_allowed
from discovery.services import round_create
from discovery.training import training_rates, training_start
from hull import families, selectors
from hull.errors import CatalogueError
from hull.export import FORMATS, structure_file
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.search import EntrySearch, SearchParts, search_entries, search_parts
from portal.api.throttling import throttle_exempt
from portal.downloads import structure_download
from portal.pages import charts as page_charts
from portal.pages import figures, params
from portal.pages import selectors as page_selectors
from portal.pages.benchmark import benchmark_panel
from portal.pages.diagrams import diagram_context, diagram_form
from portal.pages.materials import material_context
from portal.pages.plotly_assets import PLOTLY_JS, plotly_css, plotly_sheet_ids
from portal.response_cache import CatalogueRead

# The search page's query parameters (its results are kept only for queries naming no others)
SEARCH_PARAMETERS = frozenset(field.name for field in dataclass_fields(EntrySearch)) | {
    "cols",
    "per_page",
    "page",
}


def catalogue_errors(template: str = "portal/error.html", status: int = 400):
    """Render a ``CatalogueError`` as a message on ``template`` (with the request's query kept)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except CatalogueError as exc:
                url_name = request.resolver_match.url_name if request.resolver_match else ""
                context = {
                    "message": str(exc),
                    "error": str(exc),
                    "hull_sets": list(HULL_SETS),
                    "screen": (url_name or "").removeprefix("family-"),
                    "settings": request.GET.dict(),
                }
                return render(request, template, context, status=status)

        return require_GET(wrapper)

    return decorator


def render(request: HttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    """Django's render with what the layout needs: the local plotly.js address and its style sheet's ids."""
    layout = {"plotly_version": plotly.__version__, "plotly_sheet_ids": plotly_sheet_ids()}
    return django_render(request, template, {**layout, **context}, status=status)


def _hull_set(request: HttpRequest) -> str:
    return selectors.check_hull_set(request.GET.get("hull_set", "").strip() or DEFAULT_HULL_SET)


@catalogue_errors()
def home(request: HttpRequest) -> HttpResponse:
    stats = selectors.catalogue_stats(hull_set=_hull_set(request))
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


def _search_results(results: SearchParts, page_size: int, wanted) -> tuple[int, int, list]:
    """(count, page number, entries of the page) of a search, the page number as the paginator settles it."""
    paginator = Paginator(results, page_size)
    page = paginator.get_page(wanted)
    return paginator.count, page.number, list(page.object_list)


@catalogue_errors("portal/search.html")
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET
    columns = params.columns_from(query)
    page_size = params.page_size_from(query)
    entry_search = EntrySearch.from_params(query)
    heavy = ("structure", "data", "composition")
    results = SearchParts(
        [part.defer(*heavy) for part in search_parts(entry_search)], total=search_entries(entry_search)
    )
    # the page's entries and the count are kept per URL and catalogue state
    count, number, entries = CatalogueRead(request, SEARCH_PARAMETERS).get(
        lambda: _search_results(results, page_size, query.get("page"))
    )
    paginator = Paginator(results, page_size)
    paginator.count = count  # a cached property: no COUNT query
    page = Page(entries, number, paginator)
    rows = [params.result_cells(entry, columns, entry_search.hull_set) for entry in page]
    held = selectors.catalogue_elements()
    absent = page_selectors.absent_elements(entry_search, held) if not count else []
    sort = entry_search.sort
    headings = []
    for key in columns:
        label, sort_key = params.COLUMNS[key]
        link = None
        if sort_key:
            descending = sort == sort_key
            link = params.with_param(query, sort=f"-{sort_key}" if descending else sort_key, page=None)
        state = "asc" if sort == sort_key else "desc" if sort == f"-{sort_key}" else ""
        headings.append({"key": key, "label": label, "link": link, "state": state})
    return render(
        request,
        "portal/search.html",
        {
            "search": entry_search,
            "page": page,
            "rows": rows,
            "columns": columns,
            "headings": headings,
            "all_columns": params.COLUMNS,
            "page_sizes": params.PAGE_SIZES,
            "page_size": page_size,
            "hull_sets": list(HULL_SETS),
            "periodic_table": params.periodic_table(),
            "catalogue_elements": held,
            "absent_elements": absent,
            "prev_link": params.with_param(query, page=page.previous_page_number())
            if page.has_previous()
            else "",
            "next_link": params.with_param(query, page=page.next_page_number()) if page.has_next() else "",
            "first_link": params.with_param(query, page=1),
            "last_link": params.with_param(query, page=paginator.num_pages),
            "share_link": request.get_full_path(),
        },
    )


@require_GET
def material(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        entry = selectors.entry_get(public_id=public_id)
    except CatalogueError as exc:
        return render(request, "portal/error.html", {"message": str(exc)}, status=404)
    try:
        context = material_context(entry, symprec=params.get_float(request.GET, "symprec", None))
    except CatalogueError as exc:
        return render(request, "portal/error.html", {"message": str(exc), "entry": entry}, status=400)
    return render(request, "portal/material.html", context)


@catalogue_errors(status=404)
def material_download(request: HttpRequest, public_id: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404(f"unknown format {fmt!r}")
    entry = selectors.entry_get(public_id=public_id)
    cell = request.GET.get("cell", "conventional")
    symprec = params.get_float(request.GET, "symprec", None)
    return structure_download(structure_file(entry, fmt=fmt, cell=cell, symprec=symprec))


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


def family_index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/families.html", {})


@catalogue_errors("portal/family.html")
def family_layered(request: HttpRequest) -> HttpResponse:
    query = request.GET
    settings = {
        "hull_set": _hull_set(request),
        "max_e_above_hull": params.get_float(query, "max_e_above_hull", 0.1),
        "larsen_agrees": params.get_bool(query, "larsen_agrees", False),
    }
    funnel = families.layered_screen(**settings)
    return _family(request, "layered", funnel, settings)


@catalogue_errors("portal/family.html")
def family_li_conductors(request: HttpRequest) -> HttpResponse:
    query = request.GET
    excluded = params.get_list(query, "excluded_metals")
    settings = {
        "hull_set": _hull_set(request),
        "max_e_above_hull": params.get_float(query, "max_e_above_hull", 0.05),
        "excluded_metals": families.REDOX_ACTIVE_METALS if excluded is None else excluded,
        "min_band_gap": params.get_float(query, "min_band_gap", 1.0),
        "band_gap_required": params.get_bool(query, "band_gap_required", False),
        "min_li_fraction": params.get_float(query, "min_li_fraction", 0.2),
    }
    funnel = families.li_conductor_screen(**settings)
    settings["excluded_metals"] = ",".join(settings["excluded_metals"])
    return _family(request, "li-conductors", funnel, settings)


@catalogue_errors("portal/family.html")
def family_li_mn_oxides(request: HttpRequest) -> HttpResponse:
    query = request.GET
    extra = params.get_list(query, "extra_metals")
    settings = {
        "hull_set": _hull_set(request),
        "extra_metals": families.TRANSITION_METALS if extra is None else extra,
        "max_e_above_hull": params.get_float(query, "max_e_above_hull", 0.0),
    }
    funnel = families.li_mn_oxide_screen(**settings)
    settings["extra_metals"] = ",".join(settings["extra_metals"])
    return _family(request, "li-mn-oxides", funnel, settings)


def _family(request: HttpRequest, screen: str, funnel: families.Funnel, settings: dict) -> HttpResponse:
    return render(
        request,
        "portal/family.html",
        {
            "screen": screen,
            "funnel": funnel,
            "settings": settings,
            "hull_sets": list(HULL_SETS),
            "top": max(funnel.counts + [1]),
        },
    )


@catalogue_errors("portal/prototypes.html")
def family_prototypes(request: HttpRequest) -> HttpResponse:
    hull_set = _hull_set(request)
    novel_only = params.get_bool(request.GET, "novel", False)
    groups, summary = families.prototype_groups(
        hull_set=hull_set, discovery_batch_ids=page_selectors.discovery_batch_ids()
    )
    shown = [g for g in groups if g.novel] if novel_only else groups
    return render(
        request,
        "portal/prototypes.html",
        {
            "groups": shown[:300],
            "truncated": len(shown) > 300,
            "summary": summary,
            "hull_set": hull_set,
            "hull_sets": list(HULL_SETS),
            "novel_only": novel_only,
        },
    )


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
