from django.urls import path

from portal.pages import benchmark, stability, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("materials/<str:public_id>/", views.material, name="material"),
    path("materials/<str:public_id>/download/<str:fmt>/", views.material_download, name="material-download"),
    path("phase-diagram/", views.phase_diagram, name="phase-diagram"),
    path("stability/", stability.stability_check, name="stability"),
    path("families/", views.family_index, name="families"),
    path("families/layered/", views.family_layered, name="family-layered"),
    path("families/li-conductors/", views.family_li_conductors, name="family-li-conductors"),
    path("families/li-mn-oxides/", views.family_li_mn_oxides, name="family-li-mn-oxides"),
    path("families/prototypes/", views.family_prototypes, name="family-prototypes"),
    path("discovery/", views.discovery, name="discovery"),
    path("discovery/launch/", views.discovery_launch, name="discovery-launch"),
    path("discovery/benchmark/", benchmark.discovery_benchmark_launch, name="discovery-benchmark"),
    path("discovery/train/", views.discovery_train, name="discovery-train"),
    path("assets/plotly-<str:version>.min.js", views.plotly_js, name="plotly-js"),
    path("assets/plotly-<str:version>.css", views.plotly_stylesheet, name="plotly-css"),
]
