"""``{{ entry|stability_source }}``: "DFT" or "predicted by <evaluator>" (:mod:`hull.provenance`)."""

from django import template

from hull.provenance import stability_source_of

register = template.Library()


@register.filter(name="stability_source")
def stability_source_filter(entry) -> str:
    return stability_source_of(entry)
