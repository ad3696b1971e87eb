"""The "your API token" page: shows the signed-in user's token and replaces it on request (CSRF-protected)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods
from rest_framework.authtoken.models import Token


@login_required(login_url="rest_framework:login")
@require_http_methods(["GET", "POST"])
def token_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        Token.objects.filter(user=request.user).delete()
        Token.objects.create(user=request.user)
        return redirect("api-token")
    token, _ = Token.objects.get_or_create(user=request.user)
    return render(request, "api/token.html", {"token": token})
