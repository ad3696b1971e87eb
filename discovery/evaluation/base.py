"""The evaluator interface: structures (or candidates) in, relaxed structures and corrected energies out.

Every evaluator returns one :class:`EvaluationResult` per input, in input order, and never raises for a
bad structure: a relaxation that fails (an exception, a NaN energy, a code that did not converge) becomes a
result with ``status="failed"`` and a reason, so that one bad candidate cannot crash a round.

Energies are on the catalogue's scale: total energies in eV per cell with the Materials Project 2020
corrections applied (``MaterialsProject2020Compatibility``), the scale of the MP entries the hull is
built from. Each evaluator says how it gets there (CHGNet is trained on corrected energies; VASP results
are corrected after parsing).

No Django import: the round's evaluate stage calls :meth:`Evaluator.evaluate` on a chunk of candidates.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from pymatgen.core import Structure

from discovery.generation.candidates import Candidate

OK = "ok"
FAILED = "failed"


@dataclass(frozen=True)
class TrajectorySummary:
    """A short account of a relaxation: steps, first and last energy (eV/cell), last max force (eV/Å),
    whether the force criterion was met, and wall-clock seconds."""

    steps: int = 0
    initial_energy: float | None = None
    final_energy: float | None = None
    max_force: float | None = None
    converged: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class EvaluationResult:
    """The outcome of evaluating one structure.

    ``energy`` is the total energy in eV per cell and ``energy_per_atom`` in eV/atom, both on the
    MP2020-corrected scale (``None`` when failed); ``structure`` is the relaxed structure (``None`` when
    failed); ``method`` is a label such as ``"CHGNet 0.3.0"`` and ``method_family`` ``"ml"`` or ``"dft"``
    (the catalogue puts ``"ml"`` results in the ``all`` hull set only).
    """

    candidate_id: str | None
    status: str
    method: str
    method_family: str
    structure: Structure | None = None
    energy: float | None = None
    energy_per_atom: float | None = None
    reason: str = ""
    trajectory: TrajectorySummary = TrajectorySummary()

    @property
    def ok(self) -> bool:
        return self.status == OK

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable data (task results, storage)."""
        data = asdict(self)
        data["structure"] = self.structure.as_dict() if self.structure is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationResult:
        structure = Structure.from_dict(data["structure"]) if data.get("structure") else None
        return cls(
            **{**data, "structure": structure, "trajectory": TrajectorySummary(**data.get("trajectory", {}))}
        )


def failed(
    candidate_id: str | None,
    method: str,
    method_family: str,
    reason: str,
    trajectory: TrajectorySummary | None = None,
) -> EvaluationResult:
    return EvaluationResult(
        candidate_id=candidate_id,
        status=FAILED,
        method=method,
        method_family=method_family,
        reason=reason,
        trajectory=trajectory or TrajectorySummary(),
    )


def as_pairs(items: Sequence[Candidate | Structure]) -> list[tuple[str | None, Structure]]:
    """``(candidate id or None, structure)`` for candidates or bare structures."""
    pairs = []
    for item in items:
        if isinstance(item, Candidate):
            pairs.append((item.candidate_id, item.structure))
        else:
            pairs.append((None, item))
    return pairs


def is_finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


class Evaluator(ABC):
    """Relaxes structures and returns their energies on the catalogue's corrected scale."""

    method: str
    method_family: str

    @abstractmethod
    def evaluate_one(self, structure: Structure, candidate_id: str | None = None) -> EvaluationResult:
        """Evaluate one structure; must return a failed result rather than raise."""

    def evaluate(self, items: Sequence[Candidate | Structure]) -> list[EvaluationResult]:
        """One result per item, in order; failures are results, never exceptions."""
        results = []
        for candidate_id, structure in as_pairs(items):
            try:
                results.append(self.evaluate_one(structure, candidate_id))
            except Exception as error:  # a bug or an unexpected library error: still a failed result
                reason = f"{type(error).__name__}: {error}"
                results.append(failed(candidate_id, self.method, self.method_family, reason))
        return results
