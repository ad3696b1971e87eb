"""The API's landing page at /api/ and /api/v1/: what a person (HTML) or a program (``Accept: application/json``)
can ask of the portal, each endpoint with its link, methods and what it answers. :data:`ENDPOINTS` is the one
list both read."""

from dataclasses import asdict, dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    methods: tuple[str, ...]
    description: str
    linked: bool = True  # False where the path holds a placeholder (<id>)


def endpoints() -> list[Endpoint]:
    """The API's endpoints, documentation first; example arguments where a path needs one."""
    get = ("GET",)
    return [
        Endpoint(
            "Documentation", reverse("api-docs"), get, "Swagger UI: every endpoint, parameter and field"
        ),
        Endpoint(
            "OpenAPI schema",
            reverse("api-schema"),
            get,
            "the OpenAPI 3 schema (YAML) the documentation reads",
        ),
        Endpoint(
            "Your API token",
            reverse("api-token"),
            ("GET", "POST"),
            "make or replace the token scripts send as 'Authorization: Token <key>' (sign-in needed)",
        ),
        Endpoint(
            "Materials",
            reverse("material-list"),
            get,
            "catalogue entries: filters (formula, elements, chemsys, energy above hull...), sort, fields=, cursor pages",
        ),
        Endpoint(
            "Materials export",
            reverse("material-export"),
            get,
            "any list query as one JSON Lines stream (compress=gzip), no paging",
        ),
        Endpoint(
            "Material",
            reverse("material-list") + "<id>/",
            get,
            "one entry; ?format=cif, poscar or extxyz for its structure file",
            linked=False,
        ),
        Endpoint(
            "Phase diagram",
            reverse("phase-diagram", args=["Li-Fe-O"]),
            get,
            "every entry of a chemical system and its subsystems with energy above hull (eV/atom) and "
            "decomposition; the stable entries and hull facets (?hull_set=)",
        ),
        Endpoint(
            "Stability check",
            reverse("stability-check"),
            ("POST",),
            "would a composition at an energy be stable? energy above hull and decomposition; writes nothing "
            f"(the same check as the page {reverse('stability')})",
        ),
        Endpoint(
            "Discovery rounds",
            reverse("round-list"),
            ("GET", "POST"),
            "discovery rounds and their results; launching, cancelling and retrying need the launch permission",
        ),
        Endpoint(
            "OPTIMADE",
            reverse("optimade-landing"),
            get,
            "the standard OPTIMADE v1 API of the same structures (info, structures, references, links)",
        ),
    ]


@require_GET
def api_landing(request: HttpRequest) -> HttpResponse:
    """The landing page: HTML for browsers, JSON where ``application/json`` is preferred to HTML."""
    listed = endpoints()
    if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
        root = request.build_absolute_uri("/").rstrip("/")  # placeholders such as <id> are kept as written
        items = [{**asdict(e), "url": root + e.url} for e in listed]
        return JsonResponse({"api_version": "v1", "endpoints": items})
    return render(request, "api/landing.html", {"endpoints": listed})
