from django.urls import path

from portal.pages import (
    benchmark,
    dashboard,
    family_pages,
    material_page,
    round_page,
    search_page,
    stability,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", search_page.search, name="search"),
    path("materials/<str:public_id>/", material_page.material, name="material"),
    path(
        "materials/<str:public_id>/download/<str:fmt>/",
        material_page.material_download,
        name="material-download",
    ),
    path("phase-diagram/", views.phase_diagram, name="phase-diagram"),
    path(
        "phase-diagram/download.<str:fmt>",
        views.phase_diagram_download,
        name="phase-diagram-download",
    ),
    path("stability/", stability.stability_check, name="stability"),
    path("families/", family_pages.family_index, name="families"),
    path("families/layered/", family_pages.family_layered, name="family-layered"),
    path("families/li-conductors/", family_pages.family_li_conductors, name="family-li-conductors"),
    path("families/li-mn-oxides/", family_pages.family_li_mn_oxides, name="family-li-mn-oxides"),
    path("families/prototypes/", family_pages.family_prototypes, name="family-prototypes"),
    path("discovery/", dashboard.discovery, name="discovery"),
    path("discovery/launch/", dashboard.discovery_launch, name="discovery-launch"),
    path("discovery/benchmark/", benchmark.discovery_benchmark_launch, name="discovery-benchmark"),
    path("discovery/train/", dashboard.discovery_train, name="discovery-train"),
    path("discovery/status.json", dashboard.discovery_status, name="discovery-status"),
    path("discovery/estimate.json", dashboard.discovery_estimate, name="discovery-estimate"),
    path("discovery/rounds/<int:number>/", round_page.discovery_round, name="discovery-round"),
    path(
        "discovery/rounds/<int:number>/<str:action>/",
        dashboard.discovery_round_action,
        name="discovery-round-action",
    ),
    path("assets/plotly-<str:version>.min.js", views.plotly_js, name="plotly-js"),
    path("assets/plotly-<str:version>.css", views.plotly_stylesheet, name="plotly-css"),
]
