"""The OPTIMADE v1.2 endpoint under /optimade/ and its index meta-database under /optimade/index/.

The API is served at the versioned base URL /optimade/v1/ and, the same views again, at the unversioned base URL
/optimade/ (the specification's "direct access to the full API" on the unversioned base URL; v1 is the only
version, first in /versions). The base URLs themselves answer a page for people (:mod:`portal.optimade.landing`).
Paths are served with and without a trailing slash (OPTIMADE clients append paths to the base URL)."""

from django.urls import re_path

from portal.optimade import views
from portal.optimade.landing import optimade_landing

# (path under a base URL, view, name of the versioned route)
ENDPOINTS = [
    (r"versions/?$", views.versions, None),
    (r"info/?$", views.info, "optimade-info"),
    (r"info/(?P<entry>[^/]+)/?$", views.entry_info, "optimade-entry-info"),
    (r"links/?$", views.links, "optimade-links"),
    (r"structures/?$", views.structures, "optimade-structures"),
    (r"structures/(?P<public_id>[^/]+)/?$", views.structure, "optimade-structure"),
    (r"references/?$", views.reference_list, "optimade-references"),
    (r"references/(?P<reference_id>[^/]+)/?$", views.reference, "optimade-reference"),
]

urlpatterns = [
    re_path(r"^$", optimade_landing, name="optimade-landing"),
    re_path(r"^v1/?$", optimade_landing, name="optimade-v1-landing"),
    re_path(r"^index(?:/v1)?/?$", optimade_landing, name="optimade-index-landing"),
    re_path(r"^versions/?$", views.versions, name="optimade-versions"),
    *(re_path(rf"^v1/{path}", view, name=name) for path, view, name in ENDPOINTS),
    *(re_path(rf"^{path}", view) for path, view, _ in ENDPOINTS if view is not views.versions),
    re_path(r"^index/versions/?$", views.versions),
    re_path(r"^index/v1/info/?$", views.index_info, name="optimade-index-info"),
    re_path(r"^index/v1/links/?$", views.links, name="optimade-index-links"),
    re_path(r"^(?:index/)?v(?P<version>(?!1(?:/|$))[^/]+)(?:/(?P<rest>.*))?$", views.unsupported_version),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
