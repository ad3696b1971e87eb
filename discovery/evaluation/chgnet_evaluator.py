"""CHGNet 0.3.0 relaxations: the embedded default evaluator.

The pretrained CHGNet 0.3.0 weights ship inside the ``chgnet`` wheel (``chgnet/pretrained/0.3.0``);
``CHGNet.load(model_name="0.3.0")`` reads them from the package, with no download. The model is loaded
once per evaluator instance (a worker keeps one instance).

Relaxation: ``chgnet.model.StructOptimizer`` (ASE FIRE on a ``FrechetCellFilter``, so positions and cell
relax together), ``fmax`` 0.1 eV/Å and at most 300 steps by default. A relaxation that hits the step cap
is still reported as ``ok`` with ``converged=False`` in its trajectory summary.

Energy scale: CHGNet was trained on the Materials Project trajectory data set, whose energies are the MP
GGA/GGA+U energies *with the MP2020 corrections applied*, so its predictions are already on the
catalogue's corrected scale (MAE 0.043 eV/atom against the shared MP entries). They are **not** passed
through ``MaterialsProject2020Compatibility`` again: that would correct twice.

Failures become failed results: structures with atoms that have no neighbour within CHGNet's 6 Å graph
cutoff (the optimizer is told ``on_isolated_atoms="error"``), any exception during graph building or
relaxation, and non-finite energies.
"""

from __future__ import annotations

import time

import numpy as np
from pymatgen.core import Structure

from discovery.evaluation.base import OK, EvaluationResult, Evaluator, TrajectorySummary, failed, is_finite

MODEL_VERSION = "0.3.0"


class CHGNetEvaluator(Evaluator):
    """Relax with CHGNet 0.3.0; energies on the MP2020-corrected scale as predicted."""

    method = f"CHGNet {MODEL_VERSION}"
    method_family = "ml"

    def __init__(
        self,
        *,
        fmax: float = 0.1,
        steps: int = 300,
        relax_cell: bool = True,
        optimizer: str = "FIRE",
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        """``threads``: torch intra-op threads for this process (``None`` leaves torch's default, one per
        core); 1 suits a worker per core or a machine shared with other work."""
        import torch
        from chgnet.model import CHGNet, StructOptimizer  # heavy import, deferred to construction

        if threads is not None:
            torch.set_num_threads(threads)

        self.fmax = fmax
        self.steps = steps
        self.relax_cell = relax_cell
        self.model = CHGNet.load(model_name=MODEL_VERSION, use_device=device, verbose=False)
        self.optimizer = StructOptimizer(
            model=self.model, optimizer_class=optimizer, use_device=device, on_isolated_atoms="error"
        )

    def evaluate_one(self, structure: Structure, candidate_id: str | None = None) -> EvaluationResult:
        start = time.perf_counter()
        try:
            relaxed = self.optimizer.relax(
                structure, fmax=self.fmax, steps=self.steps, relax_cell=self.relax_cell, verbose=False
            )
        except Exception as error:  # isolated atoms, graph errors, ASE errors
            summary = TrajectorySummary(seconds=time.perf_counter() - start)
            return failed(
                candidate_id, self.method, self.method_family, f"{type(error).__name__}: {error}", summary
            )
        trajectory = relaxed["trajectory"]
        final = relaxed["final_structure"]
        energies = [float(e) for e in trajectory.energies]
        max_force = float(np.linalg.norm(trajectory.forces[-1], axis=1).max()) if trajectory.forces else None
        summary = TrajectorySummary(
            steps=len(energies),
            initial_energy=energies[0] if energies else None,
            final_energy=energies[-1] if energies else None,
            max_force=max_force,
            converged=max_force is not None and max_force <= self.fmax,
            seconds=time.perf_counter() - start,
        )
        energy = summary.final_energy
        if not is_finite(energy) or not np.all(np.isfinite(final.lattice.matrix)):
            return failed(candidate_id, self.method, self.method_family, "non-finite energy or cell", summary)
        final = final.copy()
        for key in list(final.site_properties):
            final.remove_site_property(key)  # magmoms: predicted, not part of the catalogue's structure
        return EvaluationResult(
            candidate_id=candidate_id,
            status=OK,
            method=self.method,
            method_family=self.method_family,
            structure=final,
            energy=energy,
            energy_per_atom=energy / len(final),
            trajectory=summary,
        )
