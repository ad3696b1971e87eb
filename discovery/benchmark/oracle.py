"""The oracle evaluator: DFT ground truth where a candidate is a hidden phase, the configured evaluator elsewhere.

A candidate is matched against the hidden entries of its reduced formula with pymatgen's ``StructureMatcher``
(default tolerances: ltol 0.2, stol 0.3, angle_tol 5, volumes scaled), first as generated and, failing that,
after the evaluator's relaxation. A match is answered with the hidden entry's DFT energy (method family
``dft``); anything else keeps the evaluator's answer, flagged with its method (e.g. ``CHGNet 0.3.0``, family
``ml``).

No Django import.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure

from discovery.benchmark.holdout import CatalogueRow
from discovery.evaluation.base import OK, EvaluationResult, Evaluator, TrajectorySummary


@dataclass(frozen=True)
class OracleAnswer:
    result: EvaluationResult
    matched: str | None = None  # public id of the hidden entry it matched
    when: str = ""  # "as generated" or "after relaxation"

    @property
    def dft(self) -> bool:
        return self.matched is not None


class Oracle:
    def __init__(self, hidden: Iterable[CatalogueRow], evaluator: Evaluator | None) -> None:
        self.evaluator = evaluator
        self.matcher = StructureMatcher()
        self.hidden: dict[str, list[tuple[CatalogueRow, Structure]]] = defaultdict(list)
        for row in sorted(hidden, key=lambda r: (r.energy_per_atom, r.public_id)):
            if row.structure is not None:
                self.hidden[row.reduced_formula].append((row, Structure.from_dict(row.structure)))

    def match(self, structure: Structure) -> CatalogueRow | None:
        """The lowest-energy hidden entry of the structure's reduced formula that it matches, if any."""
        for row, hidden in self.hidden.get(structure.composition.reduced_formula, ()):
            if self.matcher.fit(structure, hidden):
                return row
        return None

    def evaluate(self, structure: Structure, candidate_id: str | None = None) -> OracleAnswer:
        row = self.match(structure)
        if row is not None:
            return OracleAnswer(self._dft(row, candidate_id), row.public_id, "as generated")
        if self.evaluator is None:
            raise ValueError("no evaluator for a candidate the oracle does not know")
        result = self.evaluator.evaluate_one(structure, candidate_id)
        if result.ok and result.structure is not None:
            row = self.match(result.structure)
            if row is not None:
                return OracleAnswer(self._dft(row, candidate_id), row.public_id, "after relaxation")
        return OracleAnswer(result)

    @staticmethod
    def _dft(row: CatalogueRow, candidate_id: str | None) -> EvaluationResult:
        structure = Structure.from_dict(row.structure)
        return EvaluationResult(
            candidate_id=candidate_id,
            status=OK,
            method=f"DFT (hidden entry {row.public_id})",
            method_family="dft",
            structure=structure,
            energy=row.energy_per_atom * len(structure),
            energy_per_atom=row.energy_per_atom,
            trajectory=TrajectorySummary(converged=True),
        )
