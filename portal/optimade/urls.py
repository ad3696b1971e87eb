"""The OPTIMADE v1.2 endpoint under /optimade/ and its index meta-database under /optimade/index/.

Paths are served with and without a trailing slash (OPTIMADE clients append paths to the base URL)."""

from django.urls import re_path

from portal.optimade import views

urlpatterns = [
    re_path(r"^versions/?$", views.versions, name="optimade-versions"),
    re_path(r"^v1/versions/?$", views.versions),
    re_path(r"^v1/info/?$", views.info, name="optimade-info"),
    re_path(r"^v1/info/(?P<entry>[^/]+)/?$", views.entry_info, name="optimade-entry-info"),
    re_path(r"^v1/links/?$", views.links, name="optimade-links"),
    re_path(r"^v1/structures/?$", views.structures, name="optimade-structures"),
    re_path(r"^v1/structures/(?P<public_id>[^/]+)/?$", views.structure, name="optimade-structure"),
    re_path(r"^v1/references/?$", views.reference_list, name="optimade-references"),
    re_path(r"^v1/references/(?P<reference_id>[^/]+)/?$", views.reference, name="optimade-reference"),
    re_path(r"^index/versions/?$", views.versions),
    re_path(r"^index/v1/info/?$", views.index_info, name="optimade-index-info"),
    re_path(r"^index/v1/links/?$", views.links, name="optimade-index-links"),
    re_path(r"^(?:index/)?v(?P<version>(?!1(?:/|$))[^/]+)(?:/(?P<rest>.*))?$", views.unsupported_version),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
