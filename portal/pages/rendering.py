"""What every page view shares: a ``CatalogueError`` becomes a clear message on the page (status 400, or 404
for an unknown material), never a 500; the layout's plotly assets; the hull set a page reads."""

from functools import wraps

import plotly
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render as django_render
from django.views.decorators.http import require_GET

from hull import selectors
from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from portal.pages.plotly_assets import plotly_sheet_ids


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


def hull_set_from(request: HttpRequest) -> str:
    return selectors.check_hull_set(request.GET.get("hull_set", "").strip() or DEFAULT_HULL_SET)
