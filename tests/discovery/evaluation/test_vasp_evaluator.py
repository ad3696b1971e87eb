"""VASP evaluator: MPRelaxSet inputs, vasprun.xml parsing and MP2020 corrections (VASP cannot run here)."""

import shlex
from pathlib import Path

import ase
import pytest
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.io.vasp import Incar, Poscar

from discovery.evaluation.vasp_evaluator import VaspEvaluator, correct, parse_vasprun, write_inputs
from tests.conftest import absent

ASE_VASP_DATA = Path(ase.__file__).parent / "test" / "testdata" / "vasp"


def real_vasprun(name: str) -> Path:
    path = ASE_VASP_DATA / name
    if not path.exists():
        absent(f"{path} (a real vasprun.xml shipped with ase's tests) is absent")
    return path


def test_inputs_from_mprelaxset(tmp_path, mp_entries_by_id):
    structure = mp_entries_by_id["mp-22526-GGA+U"].structure  # LiCoO2: an oxide of Co, so GGA+U
    has_potcar = write_inputs(structure, tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"INCAR", "KPOINTS", "POSCAR"} <= names
    assert ("POTCAR" if has_potcar else "POTCAR.spec") in names
    incar = Incar.from_file(tmp_path / "INCAR")
    assert incar["LDAU"] is True and incar["ENCUT"] == 520 and incar["ISIF"] == 3
    assert Poscar.from_file(tmp_path / "POSCAR").structure.composition == structure.composition
    if not has_potcar:
        assert (tmp_path / "POTCAR.spec").read_text().split() == ["Li_sv", "Co", "O"]


def test_mp2020_correction_reproduces_mp_corrected_energies(mp_entries_by_id):
    for entry_id in ("mp-1960", "mp-22526-GGA+U"):
        entry = mp_entries_by_id[entry_id]
        raw = ComputedStructureEntry(entry.structure, entry.uncorrected_energy, parameters=entry.parameters)
        corrected = correct(raw)
        assert corrected is not None
        assert corrected.energy == pytest.approx(entry.energy, abs=1e-6)
        assert corrected.correction < 0  # oxide (and Co U) corrections


def test_parse_a_real_vasprun(tmp_path):
    entry = parse_vasprun(real_vasprun("vasprun_pstress.xml"))
    assert entry.composition.reduced_formula == "C"
    assert entry.uncorrected_energy == pytest.approx(-20.24010135)
    assert entry.data["ionic_steps"] >= 1 and entry.data["converged"]


def test_evaluate_runs_the_command_and_parses_its_result(tmp_path, mp_entries_by_id):
    structure = mp_entries_by_id["mp-1960"].structure
    source = real_vasprun("vasprun_pstress.xml")
    evaluator = VaspEvaluator(
        run_command=f"cp {shlex.quote(str(source))} vasprun.xml", work_dir=tmp_path, require_potcar=False
    )
    (result,) = evaluator.evaluate([structure])
    assert result.ok, result.reason
    assert result.method_family == "dft" and result.energy == pytest.approx(-20.24010135)
    assert (tmp_path / "structure-00001" / "INCAR").exists()


def test_failures_are_results(tmp_path, mp_entries_by_id):
    structure = mp_entries_by_id["mp-1960"].structure
    dfpt = real_vasprun("vasprun_dfpt.xml")  # NaCl with non-MP POTCARs: MP2020 rejects it
    cases = {
        "exit 3": "exited 3",
        "true": "no vasprun.xml",
        f"cp {shlex.quote(str(dfpt))} vasprun.xml": "rejected by MaterialsProject2020Compatibility",
    }
    for command, reason in cases.items():
        evaluator = VaspEvaluator(run_command=command, work_dir=tmp_path / "w", require_potcar=False)
        (result,) = evaluator.evaluate([structure])
        assert result.status == "failed" and reason in result.reason
    evaluator = VaspEvaluator(run_command="true", work_dir=tmp_path / "p")
    (result,) = evaluator.evaluate([structure])
    if not (tmp_path / "p" / "structure-00001" / "POTCAR").exists():
        assert result.status == "failed" and "POTCAR" in result.reason
