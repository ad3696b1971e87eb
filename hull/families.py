"""Family screens over the catalogue: each screen is a list of named filters applied in turn, with the count
after each one (a funnel) and the entries left at the end. Built on the shared search (``hull.search``) so
every screen understands hull sets and stability the same way as the search page.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from hull import family_rules
from hull.family_rules import LiConductorRule, check_nonnegative, stability_step
from hull.formulas import parse_elements
from hull.hull_sets import DEFAULT_HULL_SET
from hull.models import Entry, EntryFeatures
from hull.prototype_names import prototype_name
from hull.search import EntrySearch, search_entries

RESULT_LIMIT = 500


@dataclass
class Step:
    """One criterion of a screen: its words, the entries left after it, and whether that count is a lower bound
    (a feature the criterion needs is not yet computed for every entry)."""

    label: str
    count: int
    incomplete: bool = False


@dataclass
class Funnel:
    """A screen's steps, the entries left (annotated with stability), and what keeps the result from being
    complete (``incomplete``: sentences; empty when every entry was checked)."""

    steps: list[Step]
    entries: list[Entry]
    truncated: bool = False
    incomplete: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def counts(self) -> list[int]:
        return [step.count for step in self.steps]

    @property
    def final(self) -> int:
        return self.steps[-1].count


def _base(hull_set: str) -> QuerySet[Entry]:
    return search_entries(EntrySearch(hull_set=hull_set, sort="e_above_hull"))


def _rows(queryset: QuerySet[Entry]) -> tuple[list[Entry], bool]:
    rows = list(queryset.select_related("features")[: RESULT_LIMIT + 1])
    return rows[:RESULT_LIMIT], len(rows) > RESULT_LIMIT


class _Steps:
    """A queryset narrowed criterion by criterion, counting after each."""

    def __init__(self, queryset: QuerySet[Entry], first: str) -> None:
        self.queryset = queryset
        self.steps = [Step(first, queryset.count())]
        self.incomplete = False

    def add(self, label: str, condition: Q) -> None:
        self.queryset = self.queryset.filter(condition)
        self.steps.append(Step(label, self.queryset.count(), self.incomplete))

    def funnel(self, incomplete: list[str] | None = None, **extra) -> Funnel:
        entries, truncated = _rows(self.queryset)
        return Funnel(self.steps, entries, truncated, incomplete or [], extra)


def layered_screen(
    *,
    hull_set: str = DEFAULT_HULL_SET,
    max_e_above_hull: float = family_rules.LAYERED_MAX_E_ABOVE_HULL,
    larsen_agrees: bool = False,
) -> Funnel:
    """Layered (2D) materials (:data:`hull.family_rules.LAYERED`), stable by default; Larsen optionally agreeing.
    Where the dimensionality of some structures is still being computed, the steps after it and the result
    say so: their counts are lower bounds."""
    check_nonnegative("max_e_above_hull", max_e_above_hull)
    steps = _Steps(_base(hull_set), "all entries")
    steps.add("with a structure", Q(structure__isnull=False))
    with_structure = steps.steps[-1].count
    steps.add("dimensionality computed", family_rules.DIMENSIONALITY_COMPUTED)
    computed = steps.steps[-1].count
    notes = []
    if computed < with_structure:
        steps.steps[
            -1
        ].label = f"dimensionality computed for {computed} of {with_structure} entries, results incomplete"
        steps.steps[-1].incomplete = steps.incomplete = True
        notes.append(
            f"dimensionality computed for {computed} of {with_structure} entries with a structure "
            f"(the rest are still being computed): counts from here on are lower bounds"
        )
    else:
        steps.steps[-1].label = f"dimensionality computed for all {with_structure} entries with a structure"
    steps.add("2D by Cheon et al. (bond tolerance 0.45 Å)", family_rules.LAYERED)
    steps.add(*stability_step(hull_set=hull_set, max_e_above_hull=max_e_above_hull))
    if larsen_agrees:
        steps.add("2D by Larsen et al. as well", Q(features__dimensionality_larsen=2))
    return steps.funnel(notes)


def li_conductor_screen(*, rule: LiConductorRule) -> Funnel:
    """Li-ion conductor candidates by ``rule`` (:class:`hull.family_rules.LiConductorRule`). Entries that pass
    every other criterion but have no band gap are not candidates: they are counted in the band-gap step and
    listed apart (``extra["band_gap_unknown"]``)."""
    criteria = rule.steps()
    label, condition = criteria[0]
    steps = _Steps(_base(rule.hull_set).filter(condition), label)
    for label, condition in criteria[1:]:
        steps.add(label, condition)
    if rule.li_metal_stable:
        rows = steps.queryset.values_list("id", "composition", "energy_per_atom", "e_above_hull")
        steps.add(
            family_rules.LI_METAL_STEP,
            Q(pk__in=family_rules.li_metal_stable_ids(rows, hull_set=rule.hull_set)),
        )
    before_gap = steps.queryset
    unknown, unknown_truncated = _rows(before_gap.filter(rule.band_gap_unknown()))
    n_unknown = before_gap.filter(rule.band_gap_unknown()).count()
    words = rule.band_gap_words
    if n_unknown:
        words += f" ({n_unknown} with no band gap in the catalogue are not counted: listed apart)"
    steps.add(words, rule.band_gap_passes())
    notes = []
    if n_unknown:
        notes.append(
            f"the band gap of {n_unknown} entries that pass every other criterion is unknown: they are listed "
            f"below the candidates, not counted as candidates"
        )
    return steps.funnel(
        notes,
        band_gap_unknown=unknown,
        band_gap_unknown_count=n_unknown,
        band_gap_truncated=unknown_truncated,
    )


def li_mn_oxide_screen(
    *,
    hull_set: str = DEFAULT_HULL_SET,
    extra_metals: Iterable[str] = family_rules.TRANSITION_METALS,
    max_e_above_hull: float = 0.0,
) -> Funnel:
    """Li-Mn-O compounds, optionally with one more transition metal, stable (or near) in the hull set."""
    check_nonnegative("max_e_above_hull", max_e_above_hull)
    extra = [el for el in parse_elements(extra_metals) if el not in ("Li", "Mn", "O")]
    steps = _Steps(
        search_entries(EntrySearch(hull_set=hull_set, elements=["Li", "Mn", "O"])), "contains Li, Mn and O"
    )
    only = search_entries(
        EntrySearch(hull_set=hull_set, elements=["Li", "Mn", "O"], elements_only=["Li", "Mn", "O", *extra])
    ).filter(Q(nelements=3) | Q(nelements=4))
    steps.add(
        "nothing else, or one more transition metal"
        + (
            f" ({', '.join(extra)})" if extra and len(extra) < len(family_rules.TRANSITION_METALS) - 1 else ""
        ),
        Q(pk__in=only.values("pk")),
    )
    steps.add(*stability_step(hull_set=hull_set, max_e_above_hull=max_e_above_hull))
    return steps.funnel()


@dataclass
class PrototypeGroup:
    key: str
    anonymous_formula: str
    spacegroup_number: int | None
    count: int
    example: Entry
    novel: bool
    name: str = ""  # the well-known structure type (hull.prototype_names), where one matches


def prototype_groups(
    *, hull_set: str = DEFAULT_HULL_SET, discovery_batch_ids: Iterable[int] = ()
) -> tuple[list[PrototypeGroup], dict]:
    """Stable entries grouped by structure prototype, largest groups first. A prototype is *novel* when
    every catalogue entry of it came from one of ``discovery_batch_ids`` (batches of discovery rounds)."""
    all_stable = search_entries(EntrySearch(hull_set=hull_set, is_stable=True, sort="id"))
    stable = list(
        all_stable.filter(features__isnull=False)
        .exclude(features__prototype_key="")
        .select_related("features")
    )
    batches = set(discovery_batch_ids)
    keys = {entry.features.prototype_key for entry in stable}
    origin: dict[str, set[bool]] = defaultdict(set)
    for key, batch_id in EntryFeatures.objects.filter(prototype_key__in=keys).values_list(
        "prototype_key", "entry__batch_id"
    ):
        origin[key].add(batch_id in batches)
    by_key: dict[str, list[Entry]] = defaultdict(list)
    for entry in stable:
        by_key[entry.features.prototype_key].append(entry)
    groups = [
        PrototypeGroup(
            key=key,
            anonymous_formula=members[0].anonymous_formula,
            spacegroup_number=members[0].spacegroup_number,
            count=len(members),
            example=members[0],
            novel=bool(batches) and origin[key] == {True},
            name=prototype_name(
                members[0].structure,
                anonymous=members[0].anonymous_formula,
                spacegroup_number=members[0].spacegroup_number,
                symprec=members[0].symprec,
            ),
        )
        for key, members in by_key.items()
    ]
    groups.sort(key=lambda g: (-g.count, g.key))
    with_structure = all_stable.filter(structure__isnull=False).count()
    sizes = Counter(g.count for g in groups)
    summary = {
        "stable_with_structure": with_structure,
        "stable_with_prototype": len(stable),
        "prototype_pending": with_structure - len(stable),
        "named": sum(g.count for g in groups if g.name),
        "prototypes": len(groups),
        "novel": sum(g.novel for g in groups),
        "singletons": sizes.get(1, 0),
    }
    return groups, summary


def same_prototype(*, entry: Entry, limit: int = 50) -> list[Entry]:
    """Other entries sharing ``entry``'s structure prototype."""
    features = getattr(entry, "features", None)  # the reverse one-to-one raises an AttributeError
    if features is None or not features.prototype_key:
        return []
    return list(
        Entry.objects.filter(features__prototype_key=features.prototype_key)
        .exclude(pk=entry.pk)
        .order_by("reduced_formula", "id")[:limit]
    )
