"""A discovery round's own page: its settings and its candidates, each with the ensemble's median, the IQR over
its members and what the filter ranked it by (``discovery.selectors.round_candidates``)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from discovery.config import RoundConfig
from discovery.labels import round_settings, short_name
from discovery.models import Round
from discovery.selectors import round_candidates
from portal.pages.rendering import render


@require_GET
def discovery_round(request: HttpRequest, number: int) -> HttpResponse:
    round = get_object_or_404(Round, number=number)
    # who computed the evaluated distances: the evaluator the round recorded (with its version), else the configured one
    evaluator = (round.metrics or {}).get("evaluator") or short_name(RoundConfig.of(round).evaluator)
    context = {
        "view": round_candidates(round=round),
        "settings": round_settings(round),
        "evaluator": evaluator,
    }
    return render(request, "portal/round.html", context)
