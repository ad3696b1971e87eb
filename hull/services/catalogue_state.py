"""Bumping the catalogue-state counters (:class:`hull.models.CatalogueState`) of writes that hull updates do
not cover, in the transaction of the write, so that responses cached per catalogue state are not served stale."""

from django.db.models import F

from hull.models import CatalogueState


def catalogue_state_bump(*, name: str) -> None:
    """Add one to the counter ``name`` (created at 1 the first time, race-free)."""
    if not CatalogueState.objects.filter(name=name).update(version=F("version") + 1):
        CatalogueState.objects.bulk_create([CatalogueState(name=name)], ignore_conflicts=True)
        CatalogueState.objects.filter(name=name).update(version=F("version") + 1)
