"""Catalogue reads beside the search: an entry, counts for the home page, the catalogue's state and elements."""

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet

from hull.engine import subsystems
from hull.errors import CatalogueError
from hull.hull_sets import DEFAULT_HULL_SET, HULL_SETS
from hull.models import (
    CatalogueState,
    ChemicalSystem,
    ChemicalSystemElement,
    Entry,
    HullSetState,
    Stability,
)
from hull.provenance import DFT_LABEL, stability_source


def check_hull_set(hull_set: str) -> str:
    if hull_set not in HULL_SETS:
        raise CatalogueError(f"unknown hull set {hull_set!r}: choose one of {', '.join(HULL_SETS)}")
    return hull_set


def entry_get(*, public_id: str) -> Entry:
    """One entry with its stabilities, or ``CatalogueError`` naming the id."""
    try:
        return (
            Entry.objects.select_related("batch")
            .prefetch_related(Prefetch("stabilities", queryset=Stability.objects.order_by("hull_set")))
            .get(public_id=public_id)
        )
    except Entry.DoesNotExist as exc:
        raise CatalogueError(f"no entry with id {public_id!r}") from exc


def catalogue_stats(*, hull_set: str = DEFAULT_HULL_SET) -> dict:
    """Counts for the home page: entries, stable entries, chemical systems, stable entries by nelements."""
    check_hull_set(hull_set)
    stable = Stability.objects.filter(hull_set=hull_set, is_stable=True)
    by_nelements = dict(
        stable.values_list("entry__nelements").annotate(n=Count("id")).order_by("entry__nelements")
    )
    return {
        "hull_set": hull_set,
        "entries": Entry.objects.count(),
        "stable": stable.count(),
        "stable_by_source": stable_by_source(stable),
        "chemical_systems": ChemicalSystem.objects.count(),
        "sources": list(Entry.objects.values_list("source").annotate(n=Count("id")).order_by("-n")),
        "stable_by_nelements": by_nelements,
        "missing_references": Stability.objects.filter(hull_set=hull_set, is_stable__isnull=True).count(),
    }


def stable_by_source(stable: QuerySet[Stability]) -> list[tuple[str, int]]:
    """Stable entries counted by who says so: ``("DFT", n)`` first, then ``("predicted by <evaluator>", n)``."""
    counts: dict[str, int] = {}
    for method, family, n in (
        stable.values_list("entry__method", "entry__method_family").annotate(n=Count("id")).order_by()
    ):
        label = stability_source(method=method, method_family=family)
        counts[label] = counts.get(label, 0) + n
    return sorted(counts.items(), key=lambda item: (item[0] != DFT_LABEL, item[0]))


def entries_in_chemsys(*, chemsys: str, hull_set: str = DEFAULT_HULL_SET) -> QuerySet[Entry]:
    """Entries of one chemical system with their stability in ``hull_set`` prefetched."""
    check_hull_set(hull_set)
    return Entry.objects.filter(chemsys_id=chemsys).prefetch_related(
        Prefetch("stabilities", queryset=Stability.objects.filter(hull_set=hull_set))
    )


def catalogue_state() -> tuple[int, int, int]:
    """What changes whenever a read of the catalogue can: the largest entry id, the sum of the hull-set versions
    (every ingest bumps them in the transaction that writes its entries, and every hull update does) and the sum
    of the :class:`CatalogueState` counters (structure features). One round trip: it runs on every cached read.

    Read it before the data it keys: a write committed in between makes the data newer than the state, which a
    later read with the same state may be served harmlessly; data older than its state cannot happen."""
    names = [connection.ops.quote_name(m._meta.db_table) for m in (Entry, HullSetState, CatalogueState)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(id) FROM {names[0]}), (SELECT SUM(version) FROM {names[1]}), "
            f"(SELECT SUM(version) FROM {names[2]})"
        )
        return tuple(int(value or 0) for value in cursor.fetchone())


def catalogue_elements() -> list[str]:
    """The element symbols that some entry of the catalogue holds, sorted (the systems table has a row per
    element of every system that has entries)."""
    return sorted(set(ChemicalSystemElement.objects.values_list("symbol", flat=True).distinct()))


def hull_provenance(*, chemsys: str, hull_set: str) -> dict:
    """What a hull of ``chemsys`` in ``hull_set`` is built from: the method families of the hull set, the entries
    of the system and its subsystems counted by source, the newest of them and the hull set's version."""
    check_hull_set(hull_set)
    entries = Entry.objects.filter(
        chemsys_id__in=subsystems(chemsys), method_family__in=sorted(HULL_SETS[hull_set])
    )
    sources = list(entries.values_list("source").annotate(n=Count("id")).order_by("-n", "source"))
    state = HullSetState.objects.filter(hull_set=hull_set).first()
    return {
        "chemsys": chemsys,
        "hull_set": hull_set,
        "method_families": sorted(HULL_SETS[hull_set]),
        "entries": sum(n for _, n in sources),
        "sources": sources,
        "newest_entry_at": entries.order_by("-created_at").values_list("created_at", flat=True).first(),
        "hull_set_version": state.version if state else 0,
        "hull_set_updated_at": state.updated_at if state else None,
    }


def catalogue_has_band_gaps() -> bool:
    """Whether any entry of the catalogue has a band gap (a filter on band gaps finds nothing otherwise)."""
    return Entry.objects.filter(band_gap__isnull=False).exists()


def catalogue_labels() -> dict[str, list[str]]:
    """The sources and the methods the catalogue's entries carry, each sorted: what a search can pick from."""
    return {
        "source": sorted(Entry.objects.order_by().values_list("source", flat=True).distinct()),
        "method": sorted(Entry.objects.order_by().values_list("method", flat=True).distinct()),
    }


def hull_sets_with_entries() -> list[str]:
    """The hull sets that hold some entry (a stability row), in :data:`HULL_SETS` order."""
    return [name for name in HULL_SETS if Stability.objects.filter(hull_set=name).exists()]
