"""A material's page and its structure downloads."""

from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.views.decorators.http import require_GET

from hull import selectors
from hull.errors import CatalogueError
from hull.export import FORMATS, structure_file
from portal.downloads import structure_download
from portal.pages import params
from portal.pages.materials import ViewChoice, material_context
from portal.pages.rendering import catalogue_errors, render


def view_choice(query: QueryDict) -> ViewChoice:
    """The reader's cell, bonds, polyhedra and colours (a checkbox sends 1 after a hidden 0: the last wins)."""
    default = ViewChoice()
    return ViewChoice(
        cell=query.get("cell", default.cell),
        bonds=params.get_bool(query, "bonds", default.bonds),
        polyhedra=params.get_bool(query, "polyhedra", default.polyhedra),
        colours=query.get("colours", default.colours),
    )


@require_GET
def material(request: HttpRequest, public_id: str) -> HttpResponse:
    try:
        entry = selectors.entry_get(public_id=public_id)
    except CatalogueError as exc:
        return render(request, "portal/error.html", {"message": str(exc)}, status=404)
    try:
        context = material_context(
            entry, symprec=params.get_float(request.GET, "symprec", None), view=view_choice(request.GET)
        )
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
