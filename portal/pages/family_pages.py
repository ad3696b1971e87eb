"""Family screens (layered, Li-ion conductors, Li/Mn oxides) and prototypes. The screens' definitions and
defaults are :mod:`hull.family_rules`'s; a view reads the settings from the query and renders the funnel."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, QueryDict

from hull import families, family_rules
from hull.hull_sets import HULL_SETS
from portal.pages import params
from portal.pages import selectors as page_selectors
from portal.pages.rendering import catalogue_errors, hull_set_from, render


def family_index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/families.html", {})


def _elements(query: QueryDict, name: str, default: tuple[str, ...]) -> list[str]:
    given = params.get_list(query, name)
    return list(default) if given is None else given


def _layered(query: QueryDict) -> tuple[dict, Callable]:
    settings = {
        "max_e_above_hull": params.get_float(
            query, "max_e_above_hull", family_rules.LAYERED_MAX_E_ABOVE_HULL
        ),
        "larsen_agrees": params.get_bool(query, "larsen_agrees", False),
    }
    return settings, lambda hull_set: families.layered_screen(hull_set=hull_set, **settings)


def _li_conductors(query: QueryDict) -> tuple[dict, Callable]:
    settings = {
        "max_e_above_hull": params.get_float(
            query, "max_e_above_hull", family_rules.LI_CONDUCTOR_MAX_E_ABOVE_HULL
        ),
        "excluded_metals": _elements(query, "excluded_metals", family_rules.REDOX_ACTIVE_METALS),
        "min_band_gap": params.get_float(query, "min_band_gap", family_rules.LI_CONDUCTOR_MIN_BAND_GAP),
        "min_li_fraction": params.get_float(
            query, "min_li_fraction", family_rules.LI_CONDUCTOR_MIN_LI_FRACTION
        ),
        "li_metal_stable": params.get_bool(query, "li_metal_stable", False),
    }
    return settings, lambda hull_set: families.li_conductor_screen(
        rule=family_rules.LiConductorRule.of(hull_set=hull_set, **settings)
    )


def _li_mn_oxides(query: QueryDict) -> tuple[dict, Callable]:
    settings = {
        "extra_metals": _elements(query, "extra_metals", family_rules.TRANSITION_METALS),
        "max_e_above_hull": params.get_float(query, "max_e_above_hull", 0.0),
    }
    return settings, lambda hull_set: families.li_mn_oxide_screen(hull_set=hull_set, **settings)


SCREENS = {"layered": _layered, "li-conductors": _li_conductors, "li-mn-oxides": _li_mn_oxides}


def _family(request: HttpRequest, screen: str) -> HttpResponse:
    """The screen's settings read from the query, the funnel, and the page (lists shown comma-separated)."""
    hull_set = hull_set_from(request)
    settings, run = SCREENS[screen](request.GET)
    funnel = run(hull_set)
    shown = {name: ",".join(v) if isinstance(v, list) else v for name, v in settings.items()}
    return render(
        request,
        "portal/family.html",
        {
            "screen": screen,
            "funnel": funnel,
            "settings": {"hull_set": hull_set, **shown},
            "hull_sets": list(HULL_SETS),
            "top": max(funnel.counts + [1]),
        },
    )


@catalogue_errors("portal/family.html")
def family_layered(request: HttpRequest) -> HttpResponse:
    return _family(request, "layered")


@catalogue_errors("portal/family.html")
def family_li_conductors(request: HttpRequest) -> HttpResponse:
    return _family(request, "li-conductors")


@catalogue_errors("portal/family.html")
def family_li_mn_oxides(request: HttpRequest) -> HttpResponse:
    return _family(request, "li-mn-oxides")


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
