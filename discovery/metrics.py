"""How the discovery loop is judged: one definition of a hit and of every rate, used by the rounds, the
rediscovery benchmark and the dashboard (which prints :data:`METRIC_DEFINITIONS` next to the numbers).

Every evaluation spent stays in its denominator: a failed relaxation and an unconverged one are counted apart
and are never hits. A hit lies strictly below the hull of the round's start, by more than
:data:`HIT_TOLERANCE`; a candidate within the tolerance of that hull (e.g. a copy of a known phase, exactly on
it) is on the hull, not a hit.

No Django import.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HIT_TOLERANCE = 0.001  # eV/atom: closer than this to the round-start hull counts as on it

METRIC_DEFINITIONS: tuple[tuple[str, str], ...] = (
    (
        "hit",
        f"an evaluated candidate whose energy lies more than {1000 * HIT_TOLERANCE:g} meV/atom below the hull "
        "as it stood when the round began; within that tolerance it is on the hull, not a hit. Failed and "
        "unconverged relaxations are never hits.",
    ),
    (
        "hit rate",
        "hits / evaluations spent on the arm (filtered or baseline); failed and unconverged relaxations stay in "
        "the denominator and are counted apart.",
    ),
    (
        "evaluator",
        "the method that gave the energies (e.g. CHGNet 0.3.0, a machine-learned potential); its hits are "
        "predictions, not DFT results.",
    ),
    (
        "baseline",
        "a random sample of all generated candidates, unfiltered, evaluated with the same evaluator.",
    ),
    (
        "IQR",
        "the interquartile range (75th - 25th percentile) of the ensemble members' predicted energies of a "
        "candidate, eV/atom: how much the models disagree about it. kept_iqr_median is its median over the "
        "candidates the filter kept; the filter ranks by the median + k x IQR (k = 0, the paper's rule, unless "
        "the round sets it).",
    ),
    (
        "recall (benchmark)",
        "hidden DFT-stable phases rediscovered so far / all hidden DFT-stable phases: a candidate rediscovers "
        "one when it matches its structure (pymatgen StructureMatcher, default tolerances).",
    ),
    (
        "DFT-confirmed precision (benchmark)",
        "candidates whose oracle answer is a hidden DFT entry that is a hit against the benchmark's round-start "
        "hull / evaluations spent.",
    ),
    (
        "acceleration factor (benchmark)",
        "rediscoveries per evaluation of the filtered arm / the same of the baseline (n/a while the baseline "
        "has none).",
    ),
)


def is_hit(distance: float | None) -> bool:
    """Strictly below the round-start hull, by more than :data:`HIT_TOLERANCE` eV/atom."""
    return distance is not None and distance < -HIT_TOLERANCE


@dataclass(frozen=True)
class Outcome:
    """One evaluation spent. ``distance``: eV/atom to the round-start hull (None when failed or unplaceable);
    ``dft``: the energy is DFT ground truth (the benchmark's oracle answered); ``rediscovered``: the hidden
    DFT-stable entry it matched, if any."""

    failed: bool
    converged: bool = True
    distance: float | None = None
    dft: bool = False
    rediscovered: str | None = None

    @property
    def hit(self) -> bool:
        return not self.failed and self.converged and is_hit(self.distance)


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def arm_metrics(outcomes: Sequence[Outcome]) -> dict:
    """Counts and rates of one arm (filtered or baseline) over every evaluation it spent."""
    spent = len(outcomes)
    hits = sum(o.hit for o in outcomes)
    dft_hits = sum(o.hit and o.dft for o in outcomes)
    return {
        "evaluations": spent,
        "failed": sum(o.failed for o in outcomes),
        "unconverged": sum(not o.failed and not o.converged for o in outcomes),
        "hits": hits,
        "hit_rate": rate(hits, spent),
        "dft_answers": sum(o.dft for o in outcomes),
        "dft_hits": dft_hits,
        "dft_precision": rate(dft_hits, spent),
        "rediscovered": sorted({o.rediscovered for o in outcomes if o.rediscovered}),
    }


def acceleration(found: int, spent: int, baseline_found: int, baseline_spent: int) -> float | None:
    """Rediscoveries per evaluation, filtered / baseline; None while either rate is undefined or zero."""
    ours, theirs = rate(found, spent), rate(baseline_found, baseline_spent)
    if ours is None or not theirs:
        return None
    return ours / theirs


def union(groups: Iterable[Iterable[str]]) -> set[str]:
    return {item for group in groups for item in group}
