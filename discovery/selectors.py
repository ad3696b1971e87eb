"""Reads of discovery rounds for the pages: a round's candidates with the ensemble's median, its uncertainty
(IQR over members) and what the filter ranked them by."""

from dataclasses import dataclass

from discovery.config import RoundConfig
from discovery.models import Candidate, Round
from discovery.stages.filter import selection_energy

CANDIDATES_SHOWN = 200


@dataclass(frozen=True)
class CandidateRow:
    candidate: Candidate
    selection_energy: float | None  # median + k x IQR distance to the hull, eV/atom (the filter's ranking)


@dataclass(frozen=True)
class RoundCandidates:
    round: Round
    plan: RoundConfig
    rows: list[CandidateRow]
    total: int  # all the round's candidates (``rows`` holds at most ``limit``)


def round_candidates(*, round: Round, limit: int = CANDIDATES_SHOWN) -> RoundCandidates:
    """The round's candidates: those the filter kept first, then the baseline sample, then the rest, each group
    in the filter's order (lowest median + k x IQR first; not yet predicted last); at most ``limit``."""
    plan = RoundConfig.of(round)
    candidates = list(round.candidates.select_related("entry").defer("structure", "relaxed_structure"))
    rows = [CandidateRow(c, selection_energy(c, plan.iqr_weight)) for c in candidates]

    def order(row: CandidateRow) -> tuple:
        c = row.candidate
        energy = row.selection_energy
        return (not c.kept, not c.baseline, energy is None, energy or 0.0, c.candidate_id)

    rows.sort(key=order)
    return RoundCandidates(round=round, plan=plan, rows=rows[:limit], total=len(rows))
