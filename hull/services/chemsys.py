"""Chemical-system rows and the subsystem/supersystem arithmetic the hull updates need."""

from collections.abc import Iterable, Iterator, Sequence

from hull.engine import subsystems
from hull.models import ChemicalSystem, ChemicalSystemElement, ChemicalSystemPair, element_pairs
from hull.services.bulk import bulk_upsert

# Stay well below SQLite's limit on bound variables in one statement.
IN_CHUNK = 900


def chunked(items: Sequence, size: int = IN_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def chemsys_ensure(*, names: Iterable[str]) -> None:
    """Create the chemical systems (and their element and pair rows) that do not exist yet."""
    wanted = sorted(set(names))
    existing: set[str] = set()
    for chunk in chunked(wanted):
        existing.update(ChemicalSystem.objects.filter(name__in=chunk).values_list("name", flat=True))
    new = [name for name in wanted if name not in existing]
    if not new:
        return
    bulk_upsert(
        model=ChemicalSystem,
        fields=("name", "nelements"),
        rows=[(name, name.count("-") + 1) for name in new],
        unique_fields=("name",),
    )
    ids: dict[str, int] = {}
    for chunk in chunked(new):
        ids.update(ChemicalSystem.objects.filter(name__in=chunk).values_list("name", "id"))
    bulk_upsert(
        model=ChemicalSystemElement,
        fields=("chemsys", "symbol"),
        rows=[(ids[name], symbol) for name in new for symbol in name.split("-")],
        unique_fields=("chemsys", "symbol"),
    )
    bulk_upsert(
        model=ChemicalSystemPair,
        fields=("first", "second", "chemsys"),
        rows=[(first, second, name) for name in new for first, second in element_pairs(name)],
        unique_fields=("first", "second", "chemsys"),
    )


def supersystems_among(*, touched: Iterable[str], systems: Iterable[str]) -> set[str]:
    """The systems among ``systems`` that contain at least one of ``touched`` (a system contains itself)."""
    touched = set(touched)
    return {s for s in systems if any(sub in touched for sub in subsystems(s))}
