"""The definitions behind the family screens, each written once: the screens (``hull.families``), the REST flags
(``layered``, ``li_conductor``) and the serializers all call these.

Conditions are written against a :func:`hull.search.search_entries` queryset, which carries the entry's stability in
the chosen hull set as the annotations ``e_above_hull`` and ``is_stable``.

* Layered: two-dimensional by Cheon et al.'s bonded-cluster algorithm (Nano Lett. 17, 1915 (2017)) at the 0.45 Å
  bonding tolerance of the GNoME release's "Dimensionality Cheon" column. Merchant et al. (Nature 624, 80 (2023))
  count *stable* layered materials, so the screen's hull distance defaults to 0 (on the hull).
* Li-ion conductor candidates: the holistic screen of Sendek et al. (Energy Environ. Sci. 10, 306 (2017)), the
  screen the GNoME paper cites: lithium-containing; on or near the hull; an anion that makes an ionic solid (Li
  metal, Li alloys and phosphides are not electrolytes); no transition metal that is easily reduced or oxidised
  (it would carry electrons at the anode or the cathode); lithium-rich; and an electronic insulator, a band gap
  over 1 eV. A band gap the catalogue does not hold is *unknown*, never a pass: such entries are counted apart.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, FloatField, Q, Value
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import GreaterThan

from hull.errors import CatalogueError
from hull.formulas import parse_elements
from hull.selectors import systems_with_elements

# --- layered ------------------------------------------------------------------------------------------------
LAYERED_DIMENSIONALITY = 2
LAYERED_MAX_E_ABOVE_HULL = 0.0  # eV/atom: stable materials, as the GNoME paper counts them
LAYERED = Q(features__dimensionality_cheon=LAYERED_DIMENSIONALITY)
# Cheon's dimensionality was attempted: an integer, or a note why there is none ("cheon: intercalated ion",
# "cheon failed: ..."; hull/services/features.py). Features rows made by the fast prototype pass alone have
# neither: their dimensionality is still queued.
DIMENSIONALITY_COMPUTED = Q(features__dimensionality_cheon__isnull=False) | Q(
    features__error__contains="cheon"
)
# known not to be layered (the complement among entries whose dimensionality is known)
NOT_LAYERED = Q(features__dimensionality_cheon__isnull=False) & ~LAYERED


def is_layered(dimensionality_cheon: int | None) -> bool | None:
    """Layered by the one definition; ``None`` where the dimensionality is not known."""
    return None if dimensionality_cheon is None else dimensionality_cheon == LAYERED_DIMENSIONALITY


# --- stability step shared by the screens -------------------------------------------------------------------
def check_nonnegative(name: str, value: float) -> float:
    if value < 0:
        raise CatalogueError(f"{name} must not be negative, not {value}")
    return value


def stability_step(*, hull_set: str, max_e_above_hull: float) -> tuple[str, Q]:
    """The words and condition of "stable" (0 eV/atom: on the hull) or "within ``max_e_above_hull``" (the REST
    API passes a compiled read's marker for the number: any value but 0 has the second shape)."""
    if max_e_above_hull == 0:
        return f"stable (on the {hull_set} hull)", Q(is_stable=True)
    return f"energy above hull ≤ {max_e_above_hull:g} eV/atom ({hull_set})", Q(
        e_above_hull__lte=max_e_above_hull
    )


# --- Li-ion conductors --------------------------------------------------------------------------------------
# Anions of ionic Li solids: chalcogenides, halides, nitrides. Phosphides and heavier pnictides (LiP, Li3P, Li3Sb)
# are narrow-gap or metallic and Li metal has no anion at all, so neither is an electrolyte candidate.
LI_CONDUCTOR_ANIONS = ("O", "S", "Se", "Te", "F", "Cl", "Br", "I", "N")
# Transition metals that change oxidation state easily (Sendek et al. 2017 leave them out: such cations are
# reduced at the lithium anode or oxidised at the cathode).
REDOX_ACTIVE_METALS = tuple("Ti V Cr Mn Fe Co Ni Cu Nb Mo Ru Rh Pd Ag W Re Os Ir Pt Au Ce Eu Sm Yb U".split())
TRANSITION_METALS = tuple(
    "Sc Ti V Cr Mn Fe Co Ni Cu Zn Y Zr Nb Mo Tc Ru Rh Pd Ag Cd Hf Ta W Re Os Ir Pt Au Hg".split()
)
LI_CONDUCTOR_MAX_E_ABOVE_HULL = 0.05  # eV/atom
LI_CONDUCTOR_MIN_BAND_GAP = 1.0  # eV
LI_CONDUCTOR_MIN_LI_FRACTION = 0.2  # of the atoms


@dataclass(frozen=True)
class LiConductorRule:
    """The Li-ion conductor screen with its thresholds (the defaults are the screen's and the REST flag's)."""

    hull_set: str = "dft"
    max_e_above_hull: float = LI_CONDUCTOR_MAX_E_ABOVE_HULL
    anions: tuple[str, ...] = LI_CONDUCTOR_ANIONS
    excluded_metals: tuple[str, ...] = REDOX_ACTIVE_METALS
    min_band_gap: float = LI_CONDUCTOR_MIN_BAND_GAP
    min_li_fraction: float = LI_CONDUCTOR_MIN_LI_FRACTION
    li_metal_stable: bool = False  # the optional step: see :func:`li_metal_stable_ids`

    @classmethod
    def of(
        cls,
        *,
        hull_set: str = "dft",
        max_e_above_hull: float = LI_CONDUCTOR_MAX_E_ABOVE_HULL,
        excluded_metals: Iterable[str] = REDOX_ACTIVE_METALS,
        min_band_gap: float = LI_CONDUCTOR_MIN_BAND_GAP,
        min_li_fraction: float = LI_CONDUCTOR_MIN_LI_FRACTION,
        li_metal_stable: bool = False,
    ) -> "LiConductorRule":
        """A rule from user input, checked: element symbols, non-negative thresholds, a fraction in [0, 1]."""
        check_nonnegative("max_e_above_hull", max_e_above_hull)
        check_nonnegative("min_band_gap", min_band_gap)
        if not 0 <= min_li_fraction <= 1:
            raise CatalogueError(f"min_li_fraction must lie between 0 and 1, not {min_li_fraction}")
        excluded = tuple(parse_elements(excluded_metals))
        if "Li" in excluded:
            raise CatalogueError("lithium cannot be an excluded metal on this screen")
        return cls(
            hull_set,
            max_e_above_hull,
            LI_CONDUCTOR_ANIONS,
            excluded,
            min_band_gap,
            min_li_fraction,
            li_metal_stable,
        )

    def steps(self) -> list[tuple[str, Q]]:
        """Every criterion but the band gap, in the screen's order, as (words, condition)."""
        steps = [("contains Li", systems_with_elements("chemsys", contains_all=["Li"]))]
        steps.append(stability_step(hull_set=self.hull_set, max_e_above_hull=self.max_e_above_hull))
        steps.append(
            (
                f"an anion of {', '.join(self.anions)} (Li metal, alloys and phosphides are not electrolytes)",
                systems_with_elements("chemsys", contains_any=self.anions),
            )
        )
        if self.excluded_metals:
            steps.append(
                (
                    f"none of {', '.join(self.excluded_metals)}",
                    systems_with_elements("chemsys", exclude=self.excluded_metals),
                )
            )
        li_amount = Cast(KeyTextTransform("Li", "composition"), FloatField())
        steps.append(
            (
                f"Li fraction of atoms > {self.min_li_fraction:g}",
                Q(GreaterThan(li_amount, Value(self.min_li_fraction) * F("nsites"))),
            )
        )
        return steps

    @property
    def band_gap_words(self) -> str:
        return f"band gap > {self.min_band_gap:g} eV"

    def band_gap_passes(self) -> Q:
        return Q(band_gap__gt=self.min_band_gap)

    def band_gap_unknown(self) -> Q:
        return Q(band_gap__isnull=True)

    def before_band_gap(self) -> Q:
        condition = Q()
        for _, step in self.steps():
            condition &= step
        return condition

    def condition(self) -> Q:
        """A candidate: every criterion, the band gap known and over the threshold (the optional stability
        against Li metal is computed, not a condition: :func:`li_metal_stable_ids`; the REST flag leaves it out)."""
        return self.before_band_gap() & self.band_gap_passes()


LI_METAL_STEP = (
    "stable against Li metal (the 1:1 mixture with Li lies on the hull, or no higher above it than the compound's"
    " own share)"
)
LI_METAL_TOLERANCE = 1e-6  # eV/atom


def li_metal_stable_ids(rows: Iterable[tuple[int, dict, float, float]], *, hull_set: str) -> set[int]:
    """The ids among ``rows`` (id, composition, energy per atom, energy above hull) that do not react with Li metal
    (Sendek et al. 2017's electrochemical-stability criterion at the anode). A compound X and Li metal react when
    the segment between them leaves the lower hull; the distance above the hull of points along it is concave,
    so it suffices to look at the 1:1 mixture (by atoms): X is stable against Li when that mixture lies no higher
    above the hull than X's own share, half its energy above the hull."""
    from hull.hull_lookup import HullLookup  # reads the catalogue: imported when the step runs

    lookup = HullLookup(hull_set=hull_set)
    kept = set()
    for pk, composition, energy_per_atom, e_above_hull in rows:
        total = sum(composition.values())
        mixture = {el: 0.5 * amount / total for el, amount in composition.items()}
        mixture["Li"] = mixture.get("Li", 0.0) + 0.5
        li_formation = 0.0  # Li metal, the reference, has no formation energy
        own = lookup.formation_energy(composition, energy_per_atom)
        if own is None:
            continue
        above = lookup.decomposition_energy(mixture, 0.5 * own + 0.5 * li_formation)
        if above is not None and above <= 0.5 * (e_above_hull or 0.0) + LI_METAL_TOLERANCE:
            kept.add(pk)
    return kept
