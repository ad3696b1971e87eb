"""The "your API token" page: says whether the signed-in user has a token (by its first characters) and makes
a new one on request (CSRF-protected), whose key is shown on that one response only: it is stored hashed."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from portal.api.tokens import api_token_create
from portal.models import ApiToken


@never_cache
@login_required(login_url="rest_framework:login")
@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    key = api_token_create(user=request.user) if request.method == "POST" else None
    token = ApiToken.objects.filter(user=request.user).first()
    return render(request, "api/token.html", {"token": token, "key": key})
