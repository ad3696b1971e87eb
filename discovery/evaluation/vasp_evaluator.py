"""VASP relaxations for users who have VASP: MPRelaxSet inputs, a configured command, MP2020 corrections.

For each structure, in ``work_dir/<candidate id or index>``:

1. inputs from pymatgen's ``MPRelaxSet`` (the Materials Project's relaxation settings: PBE, GGA+U for
   oxides and fluorides of Co, Cr, Fe, Mn, Mo, Ni, V, W, 520 eV cutoff) with ``write_input``. The POTCAR
   needs the licensed pseudopotentials (``PMG_VASP_PSP_DIR``); where pymatgen cannot find them, the
   evaluator writes ``POTCAR.spec`` instead (the POTCAR symbols, one per line: ``potcar_spec=True``) with
   INCAR, KPOINTS and POSCAR, so that inputs can still be generated, inspected and tested here; a run
   without a POTCAR is then reported as failed rather than started (unless ``require_potcar=False``:
   a run command that provides the POTCAR itself, from ``POTCAR.spec``);
2. the configured ``run_command`` (a shell command line from the settings or the environment, e.g.
   ``"srun vasp_std"``) runs in that directory, with a time limit;
3. ``vasprun.xml`` is parsed with ``Vasprun(...).get_computed_entry(inc_structure=True)`` and corrected with
   ``MaterialsProject2020Compatibility`` (anion and GGA/GGA+U mixing corrections), so the energy joins
   the catalogue's corrected scale. An entry that the scheme rejects (POTCARs or U values that do not
   match MP's) is a failed result: its energy cannot be put on that scale.

VASP cannot run on this machine: input generation and parsing are tested, the run is a subprocess call.
"""

from __future__ import annotations

import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
from pymatgen.core import Structure
from pymatgen.entries.compatibility import Compatibility, MaterialsProject2020Compatibility
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.io.vasp import Vasprun
from pymatgen.io.vasp.inputs import PmgVaspPspDirError
from pymatgen.io.vasp.sets import MPRelaxSet

from discovery.evaluation.base import OK, EvaluationResult, Evaluator, TrajectorySummary, failed


def write_inputs(structure: Structure, directory: Path, user_incar_settings: dict | None = None) -> bool:
    """Write MPRelaxSet inputs into ``directory``; ``True`` with a POTCAR, ``False`` with ``POTCAR.spec``
    only (the pseudopotential library is not configured here)."""
    input_set = MPRelaxSet(structure, user_incar_settings=user_incar_settings or {})
    try:
        input_set.write_input(directory)
        return True
    except PmgVaspPspDirError:
        input_set.write_input(directory, potcar_spec=True)
        return False


def parse_vasprun(path: Path) -> ComputedStructureEntry:
    """The raw (uncorrected) entry of a finished run, with its final structure."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vasprun = Vasprun(str(path), parse_potcar_file=False, parse_dos=False, parse_eigen=False)
    entry = vasprun.get_computed_entry(inc_structure=True)
    entry.data["converged"] = vasprun.converged
    entry.data["ionic_steps"] = len(vasprun.ionic_steps)
    entry.data["initial_energy"] = (
        float(vasprun.ionic_steps[0]["e_0_energy"]) if vasprun.ionic_steps else None
    )
    forces = vasprun.ionic_steps[-1].get("forces") if vasprun.ionic_steps else None
    entry.data["max_force"] = (
        float(np.linalg.norm(np.asarray(forces), axis=1).max()) if forces is not None else None
    )
    return entry


def correct(
    entry: ComputedStructureEntry, compatibility: Compatibility | None = None
) -> ComputedStructureEntry | None:
    """The entry with MP2020 corrections (``None`` when the scheme rejects it)."""
    compatibility = compatibility or MaterialsProject2020Compatibility()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return compatibility.process_entry(entry, clean=True)


class VaspEvaluator(Evaluator):
    """Relax with VASP through ``run_command``; energies corrected with MP2020."""

    method = "VASP PBE (MPRelaxSet)"
    method_family = "dft"

    def __init__(
        self,
        *,
        run_command: str,
        work_dir: Path | str,
        timeout_s: float | None = None,
        user_incar_settings: dict | None = None,
        require_potcar: bool = True,
    ) -> None:
        self.run_command = run_command
        self.work_dir = Path(work_dir)
        self.timeout_s = timeout_s
        self.user_incar_settings = user_incar_settings or {}
        self.compatibility = MaterialsProject2020Compatibility()
        self.require_potcar = require_potcar  # False: the run command supplies its own POTCAR
        self._count = 0

    def directory_for(self, candidate_id: str | None) -> Path:
        self._count += 1
        return self.work_dir / (candidate_id or f"structure-{self._count:05d}")

    def evaluate_one(self, structure: Structure, candidate_id: str | None = None) -> EvaluationResult:
        start = time.perf_counter()
        directory = self.directory_for(candidate_id)
        directory.mkdir(parents=True, exist_ok=True)
        if not write_inputs(structure, directory, self.user_incar_settings) and self.require_potcar:
            return self._failed(
                candidate_id, "no POTCAR: PMG_VASP_PSP_DIR is not configured (POTCAR.spec written)", start
            )
        try:
            completed = subprocess.run(
                self.run_command,
                shell=True,
                cwd=directory,
                capture_output=True,
                text=True,
                timeout=self.timeout_s,
            )
        except subprocess.TimeoutExpired:
            return self._failed(candidate_id, f"timed out after {self.timeout_s} s", start)
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout)[-300:]
            return self._failed(candidate_id, f"run command exited {completed.returncode}: {tail}", start)
        return self.result_from_directory(directory, candidate_id, start)

    def result_from_directory(
        self, directory: Path, candidate_id: str | None = None, start: float | None = None
    ) -> EvaluationResult:
        """Parse and correct ``directory/vasprun.xml`` (also usable on runs made elsewhere)."""
        start = time.perf_counter() if start is None else start
        path = directory / "vasprun.xml"
        if not path.exists():
            return self._failed(candidate_id, "no vasprun.xml", start)
        try:
            entry = parse_vasprun(path)
        except Exception as error:
            return self._failed(
                candidate_id, f"unreadable vasprun.xml: {type(error).__name__}: {error}", start
            )
        summary = TrajectorySummary(
            steps=entry.data["ionic_steps"],
            initial_energy=entry.data["initial_energy"],
            final_energy=entry.uncorrected_energy,
            max_force=entry.data["max_force"],
            converged=bool(entry.data["converged"]),
            seconds=time.perf_counter() - start,
        )
        corrected = correct(entry, self.compatibility)
        if corrected is None:
            reason = f"rejected by MaterialsProject2020Compatibility (run type {entry.parameters.get('run_type')}, POTCARs {entry.parameters.get('potcar_symbols')})"
            return failed(candidate_id, self.method, self.method_family, reason, summary)
        return EvaluationResult(
            candidate_id=candidate_id,
            status=OK,
            method=self.method,
            method_family=self.method_family,
            structure=corrected.structure,
            energy=corrected.energy,
            energy_per_atom=corrected.energy_per_atom,
            trajectory=summary,
        )

    def _failed(self, candidate_id: str | None, reason: str, start: float) -> EvaluationResult:
        summary = TrajectorySummary(seconds=time.perf_counter() - start)
        return failed(candidate_id, self.method, self.method_family, reason, summary)
