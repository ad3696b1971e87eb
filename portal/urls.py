from django.contrib import admin
from django.urls import include, path

from portal.login import AdminLockoutAuthenticationForm

admin.site.login_form = AdminLockoutAuthenticationForm

urlpatterns = [
    path("", include("portal.pages.urls")),
    path("api/", include("portal.api.urls")),
    path("optimade/", include("portal.optimade.urls")),
    path("admin/", admin.site.urls),
]
