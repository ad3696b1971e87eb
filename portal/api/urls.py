"""The JSON API under /api/v1/ (Django REST framework), its OpenAPI schema and docs, and the token page.

/api/  /api/v1/                        landing page: the endpoints below with links (JSON to Accept: application/json)
/api/v1/materials/                     list (filters, sort, fields=, cursor pages)
/api/v1/materials/export/              JSON Lines (or format=csv) stream of any list query (compress=gzip)
/api/v1/materials/<id>/                detail (?format=cif|poscar|extxyz)
/api/v1/phase-diagrams/<chemsys>/      phase diagram per hull set
/api/v1/stability/                     POST: would this be stable? (writes nothing)
/api/v1/rounds/                        discovery rounds (POST, <n>/cancel/, <n>/retry/: staff)
/api/schema/  /api/docs/               OpenAPI 3 and Swagger UI (served locally)
/api/token/                            your API token (login required)

Any other address under /api/v1/ answers a JSON 404.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from portal.api import account, views
from portal.api.exceptions import unknown_path
from portal.api.landing import api_landing

router = SimpleRouter()
router.register("materials", views.MaterialViewSet, basename="material")
router.register("rounds", views.RoundViewSet, basename="round")

v1 = [
    path("", api_landing, name="api-v1-landing"),
    path("materials/export/", views.MaterialExportView.as_view(), name="material-export"),
    path("materials/<str:public_id>/", views.MaterialDetailView.as_view(), name="material-detail"),
    path("phase-diagrams/<str:chemsys>/", views.PhaseDiagramView.as_view(), name="phase-diagram"),
    path("stability/", views.StabilityCheckView.as_view(), name="stability-check"),
    *router.urls,
    re_path(r"^(?P<path>.*)$", unknown_path),  # last: any other address is a JSON 404
]

urlpatterns = [
    path("", api_landing, name="api-landing"),
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("token/", account.token_page, name="api-token"),
    path("auth/", include("portal.login")),  # sign-in with a lockout, in place of rest_framework.urls
]
