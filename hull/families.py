"""Family screens over the catalogue: each screen is a list of named filters applied in turn, with the count
after each one (a funnel) and the entries left at the end. Built on the shared search (``hull.search``) so
every screen understands hull sets and stability the same way as the search page.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from hull.errors import CatalogueError
from hull.formulas import parse_elements
from hull.hull_sets import DEFAULT_HULL_SET
from hull.models import Entry, EntryFeatures
from hull.search import EntrySearch, search_entries

# Transition metals that change oxidation state easily (excluded by Sendek et al. 2017, Energy Environ. Sci.
# 10, 306: such cations are reduced at the lithium anode or oxidised at the cathode).
REDOX_ACTIVE_METALS = "Ti V Cr Mn Fe Co Ni Cu Nb Mo Ru Rh Pd Ag W Re Os Ir Pt Au Ce Eu Sm Yb U".split()
TRANSITION_METALS = (
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd Hf Ta W Re Os Ir Pt Au Hg".split()
)
RESULT_LIMIT = 500


@dataclass
class Funnel:
    """A screen's criteria in words, the count after each, and the entries left (annotated with stability)."""

    criteria: list[str]
    counts: list[int]
    entries: list[Entry]
    truncated: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> list[tuple[str, int]]:
        return list(zip(self.criteria, self.counts, strict=True))


def _base(hull_set: str) -> QuerySet[Entry]:
    return search_entries(EntrySearch(hull_set=hull_set, sort="e_above_hull"))


def _check_nonnegative(name: str, value: float) -> float:
    if value < 0:
        raise CatalogueError(f"{name} must not be negative, not {value}")
    return value


def _finish(criteria, counts, queryset: QuerySet[Entry], **extra) -> Funnel:
    rows = list(queryset.select_related("features")[: RESULT_LIMIT + 1])
    return Funnel(criteria, counts, rows[:RESULT_LIMIT], len(rows) > RESULT_LIMIT, extra)


def layered_screen(
    *, hull_set: str = DEFAULT_HULL_SET, max_e_above_hull: float = 0.1, larsen_agrees: bool = False
) -> Funnel:
    """Layered (2D) materials: Cheon dimensionality 2 at 0.45 Å, near the hull; Larsen optionally agreeing."""
    _check_nonnegative("max_e_above_hull", max_e_above_hull)
    queryset = _base(hull_set)
    criteria, counts = ["all entries"], [queryset.count()]
    queryset = queryset.filter(structure__isnull=False)
    criteria.append("with a structure")
    counts.append(queryset.count())
    queryset = queryset.filter(features__isnull=False)
    criteria.append("dimensionality computed")
    counts.append(queryset.count())
    queryset = queryset.filter(features__dimensionality_cheon=2)
    criteria.append("2D by Cheon et al. (bond tolerance 0.45 Å)")
    counts.append(queryset.count())
    queryset = queryset.filter(e_above_hull__lte=max_e_above_hull)
    criteria.append(f"energy above hull ≤ {max_e_above_hull:g} eV/atom ({hull_set})")
    counts.append(queryset.count())
    if larsen_agrees:
        queryset = queryset.filter(features__dimensionality_larsen=2)
        criteria.append("2D by Larsen et al. as well")
        counts.append(queryset.count())
    return _finish(criteria, counts, queryset)


def li_conductor_screen(
    *,
    hull_set: str = DEFAULT_HULL_SET,
    max_e_above_hull: float = 0.05,
    excluded_metals: Iterable[str] = REDOX_ACTIVE_METALS,
    min_band_gap: float = 1.0,
    band_gap_required: bool = False,
    min_li_fraction: float = 0.2,
) -> Funnel:
    """Li-ion conductor candidates after the holistic screening of Sendek et al. 2017: lithium-containing,
    on or near the hull, free of easily reduced/oxidised transition metals, wide band gap (electronically
    insulating), and lithium-rich."""
    _check_nonnegative("max_e_above_hull", max_e_above_hull)
    _check_nonnegative("min_band_gap", min_band_gap)
    if not 0 <= min_li_fraction <= 1:
        raise CatalogueError(f"min_li_fraction must lie between 0 and 1, not {min_li_fraction}")
    excluded = parse_elements(excluded_metals)
    if "Li" in excluded:
        raise CatalogueError("lithium cannot be an excluded metal on this screen")
    queryset = search_entries(EntrySearch(hull_set=hull_set, elements=["Li"]))
    criteria, counts = ["contains Li"], [queryset.count()]
    queryset = queryset.filter(e_above_hull__lte=max_e_above_hull)
    criteria.append(f"energy above hull ≤ {max_e_above_hull:g} eV/atom ({hull_set})")
    counts.append(queryset.count())
    if excluded:
        queryset = search_entries(
            EntrySearch(
                hull_set=hull_set,
                elements=["Li"],
                exclude_elements=excluded,
                e_above_hull_max=max_e_above_hull,
            )
        )
        criteria.append(f"none of {', '.join(excluded)}")
        counts.append(queryset.count())
    gap = Q(band_gap__gt=min_band_gap)
    queryset = queryset.filter(gap if band_gap_required else gap | Q(band_gap__isnull=True))
    criteria.append(
        f"band gap > {min_band_gap:g} eV" + ("" if band_gap_required else " (entries with no band gap kept)")
    )
    counts.append(queryset.count())
    keep = [
        pk
        for pk, composition in queryset.values_list("id", "composition")
        if composition.get("Li", 0) / sum(composition.values()) > min_li_fraction
    ]
    queryset = queryset.filter(pk__in=keep)
    criteria.append(f"Li fraction of atoms > {min_li_fraction:g}")
    counts.append(len(keep))
    return _finish(criteria, counts, queryset)


def li_mn_oxide_screen(
    *,
    hull_set: str = DEFAULT_HULL_SET,
    extra_metals: Iterable[str] = TRANSITION_METALS,
    max_e_above_hull: float = 0.0,
) -> Funnel:
    """Li-Mn-O compounds, optionally with one more transition metal, stable (or near) in the hull set."""
    _check_nonnegative("max_e_above_hull", max_e_above_hull)
    extra = [el for el in parse_elements(extra_metals) if el not in ("Li", "Mn", "O")]
    queryset = search_entries(EntrySearch(hull_set=hull_set, elements=["Li", "Mn", "O"]))
    criteria, counts = ["contains Li, Mn and O"], [queryset.count()]
    queryset = search_entries(
        EntrySearch(hull_set=hull_set, elements=["Li", "Mn", "O"], elements_only=["Li", "Mn", "O", *extra])
    ).filter(Q(nelements=3) | Q(nelements=4))
    criteria.append(
        "nothing else, or one more transition metal"
        + (f" ({', '.join(extra)})" if extra and len(extra) < len(TRANSITION_METALS) - 1 else "")
    )
    counts.append(queryset.count())
    if max_e_above_hull == 0:
        queryset = queryset.filter(is_stable=True)
        criteria.append(f"stable (on the {hull_set} hull)")
    else:
        queryset = queryset.filter(e_above_hull__lte=max_e_above_hull)
        criteria.append(f"energy above hull ≤ {max_e_above_hull:g} eV/atom ({hull_set})")
    counts.append(queryset.count())
    return _finish(criteria, counts, queryset)


@dataclass
class PrototypeGroup:
    key: str
    anonymous_formula: str
    spacegroup_number: int | None
    count: int
    example: Entry
    novel: bool


def prototype_groups(
    *, hull_set: str = DEFAULT_HULL_SET, discovery_batch_ids: Iterable[int] = ()
) -> tuple[list[PrototypeGroup], dict]:
    """Stable entries grouped by structure prototype, largest groups first. A prototype is *novel* when
    every catalogue entry of it came from one of ``discovery_batch_ids`` (batches of discovery rounds)."""
    stable = list(
        search_entries(EntrySearch(hull_set=hull_set, is_stable=True, sort="id"))
        .filter(features__isnull=False)
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
        )
        for key, members in by_key.items()
    ]
    groups.sort(key=lambda g: (-g.count, g.key))
    sizes = Counter(g.count for g in groups)
    summary = {
        "stable_with_prototype": len(stable),
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
