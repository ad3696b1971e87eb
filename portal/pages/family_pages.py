"""Family screens (layered, Li-ion conductors, Li/Mn oxides) and prototypes."""

from django.http import HttpRequest, HttpResponse

from hull import families
from hull.hull_sets import HULL_SETS
from portal.pages import params
from portal.pages import selectors as page_selectors
from portal.pages.rendering import catalogue_errors, hull_set_from, render


def family_index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/families.html", {})


@catalogue_errors("portal/family.html")
def family_layered(request: HttpRequest) -> HttpResponse:
    query = request.GET
    settings = {
        "hull_set": hull_set_from(request),
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
        "hull_set": hull_set_from(request),
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
        "hull_set": hull_set_from(request),
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
    hull_set = hull_set_from(request)
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
