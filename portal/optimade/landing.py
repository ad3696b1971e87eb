"""The human-readable page of the OPTIMADE base URLs (/optimade/ and /optimade/v1/), which the specification
recommends: what the addresses are, links to the endpoints and the clients that read them. Programs asking
for JSON (or for nothing in particular) get the OPTIMADE 404 document of a path that is no endpoint."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from portal.optimade import views

EXAMPLE_FILTER = 'elements HAS ALL "Li","O" AND nelements=2'


@require_GET
def optimade_landing(request: HttpRequest) -> HttpResponse:
    if request.get_preferred_type([views.JSON_API, "application/json", "text/html"]) != "text/html":
        return views.not_found(request)
    base = request.build_absolute_uri("/optimade").rstrip("/")
    context = {
        "base": base,
        "api_version": views.API_VERSION,
        "entry_types": views.ENTRY_TYPES,
        "example_filter": EXAMPLE_FILTER,
    }
    return render(request, "api/optimade_landing.html", context)
