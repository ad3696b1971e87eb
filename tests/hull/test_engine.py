"""The pure hull engine against pymatgen's PhaseDiagram, hand-made edge cases and invariants."""

from __future__ import annotations

import random
import warnings
from collections import defaultdict
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import linprog

from hull.engine import (
    EntryThermo,
    PhaseEntry,
    chemsys_of,
    compute_hulls,
    is_subsystem,
    subsystems,
)

pymatgen_pd = pytest.importorskip("pymatgen.analysis.phase_diagram")
from pymatgen.core import Composition  # noqa: E402

TOL = 1e-6
ELEMENTS = ["Li", "Fe", "O", "P", "Mn", "Co", "Ni", "Na"]


def entry(key: int, composition: dict[str, float], energy: float) -> PhaseEntry:
    return PhaseEntry(key, composition, energy)


def random_catalogue(
    rng: random.Random, elements: list[str], n_compounds: int, *, max_amount: int = 4
) -> list[PhaseEntry]:
    """Elemental references plus random compounds with formation energies like real ones."""
    refs = {el: -rng.uniform(1.0, 9.0) for el in elements}
    entries = [entry(i, {el: 1}, refs[el]) for i, el in enumerate(elements)]
    for key in range(len(elements), len(elements) + n_compounds):
        size = rng.randint(2, len(elements))
        chosen = rng.sample(elements, size)
        amounts = {el: rng.randint(1, max_amount) for el in chosen}
        total = sum(amounts.values())
        reference = sum(refs[el] * a / total for el, a in amounts.items())
        entries.append(entry(key, amounts, reference + rng.uniform(-2.5, 0.4)))
    return entries


def pymatgen_diagram(entries: list[PhaseEntry]):
    """One PhaseDiagram over the entries; names sort like keys so ties break the same way."""
    pd_entries = [
        pymatgen_pd.PDEntry(
            Composition(e.composition), e.energy_per_atom * sum(e.composition.values()), name=f"{e.key:09d}"
        )
        for e in entries
    ]
    return (
        pymatgen_pd.PhaseDiagram(pd_entries),
        {pe.name: e.key for pe, e in zip(pd_entries, entries, strict=True)},
        pd_entries,
    )


def signature(e: PhaseEntry) -> tuple[str, float]:
    return Composition(e.composition).reduced_formula, round(e.energy_per_atom, 9)


def assert_matches_pymatgen(entries: list[PhaseEntry], *, gnome: bool = True) -> None:
    """Every entry's thermo in the largest system equals pymatgen's to TOL."""
    result = compute_hulls(entries)
    diagram, key_of, pd_entries = pymatgen_diagram(entries)
    by_key = {e.key: e for e in entries}
    for pd_entry, e in zip(pd_entries, entries, strict=True):
        thermo = result.thermo[e.key]
        assert thermo.formation_energy_per_atom == pytest.approx(
            diagram.get_form_energy_per_atom(pd_entry), abs=TOL
        )
        assert thermo.e_above_hull == pytest.approx(diagram.get_e_above_hull(pd_entry), abs=TOL)
        assert thermo.is_stable == any(
            pd_entry is s for s in diagram.stable_entries
        )  # Entry == ignores names
        # pymatgen's Entry == ignores names, so an equal-energy duplicate may come back as its
        # own decomposition there: compare phases by (reduced composition, energy) instead of key
        expected = {
            signature(by_key[key_of[p.name]]): a
            for p, a in diagram.get_decomp_and_e_above_hull(pd_entry)[0].items()
        }
        got = {signature(by_key[k]): a for k, a in thermo.decomposition.items()}
        assert got.keys() == expected.keys()
        for phase, amount in expected.items():
            assert got[phase] == pytest.approx(amount, abs=TOL)
        if gnome and (thermo.is_stable or thermo.e_above_hull < 0.1):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                energy = diagram.get_decomp_and_phase_separation_energy(pd_entry)[1]
            assert thermo.decomposition_energy == pytest.approx(energy, abs=TOL), e


# --- chemical-system helpers -------------------------------------------------------------


def test_chemsys_helpers():
    assert chemsys_of({"O": 2, "Li": 1, "Fe": 1}) == "Fe-Li-O"
    assert subsystems("O-Li") == ["Li", "O", "Li-O"]
    assert subsystems("Fe-Li-O", proper=True) == ["Fe", "Li", "O", "Fe-Li", "Fe-O", "Li-O"]
    assert is_subsystem("Li-O", "Fe-Li-O") and is_subsystem("O", "O") and not is_subsystem("Fe-P", "Fe-Li-O")


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_energy_rejected_naming_the_key(bad):
    with pytest.raises(ValueError, match="entry 42"):
        PhaseEntry(42, {"Li": 1}, bad)
    sneaky = SimpleNamespace(key=43, composition={"Li": 1}, energy_per_atom=bad)
    with pytest.raises(ValueError, match="entry 43"):
        compute_hulls([entry(1, {"Li": 1}, -1.9), sneaky])


def test_bad_composition_and_repeated_key_rejected():
    with pytest.raises(ValueError, match="entry 5"):
        PhaseEntry(5, {"Li": 0}, -1.0)
    with pytest.raises(ValueError, match="entry 1"):
        compute_hulls([entry(1, {"Li": 1}, -1.9), entry(1, {"O": 1}, -4.9)])


# --- hand-made edge cases ----------------------------------------------------------------


def test_binary_values_by_hand():
    entries = [
        entry(1, {"Li": 1}, -2.0),
        entry(2, {"O": 1}, -4.0),
        entry(3, {"Li": 2, "O": 1}, -4.0),  # E_f = -4 - (2/3 * -2 + 1/3 * -4) = -4/3
        entry(4, {"Li": 1, "O": 1}, -3.0),  # hull at x_O=1/2: -1 (Li2O--O2 line) -> 0 above ref mix
    ]
    result = compute_hulls(entries)
    li2o = result.thermo[3]
    assert li2o.is_stable and li2o.e_above_hull == 0.0 and li2o.decomposition == {3: 1.0}
    assert li2o.formation_energy_per_atom == pytest.approx(-4 / 3)
    lio = result.thermo[4]
    assert lio.formation_energy_per_atom == pytest.approx(0.0)
    assert lio.e_above_hull == pytest.approx(1.0)  # hull at x_O = 1/2 is -1.0 eV/atom
    assert lio.decomposition == pytest.approx({3: 0.75, 2: 0.25})
    assert lio.decomposition_energy == pytest.approx(1.0)
    assert li2o.decomposition_energy == pytest.approx(-4 / 3)  # without Li2O the hull is the Li--O line
    hull = result.hulls["Li-O"]
    assert hull.stable_keys == (1, 2, 3) and hull.facets == ((1, 3), (2, 3))
    assert result.hulls["Li"].stable_keys == (1,) and set(result.hulls) == {"Li", "O", "Li-O"}
    assert_matches_pymatgen(entries)


def test_duplicates_with_equal_energies_and_polymorphs():
    entries = [
        entry(1, {"Fe": 1}, -8.0),
        entry(2, {"O": 1}, -5.0),
        entry(9, {"Fe": 2, "O": 3}, -7.0),
        entry(7, {"Fe": 4, "O": 6}, -7.0),  # duplicate: same reduced composition, same energy
        entry(8, {"Fe": 2, "O": 3}, -6.9),  # polymorph 0.1 eV/atom higher
        entry(3, {"Fe": 1}, -7.5),  # elemental polymorph
        entry(4, {"Fe": 1}, -8.0),  # elemental duplicate
    ]
    result = compute_hulls(entries)
    assert result.thermo[7].is_stable and not result.thermo[9].is_stable  # smallest key wins ties
    assert result.thermo[9].e_above_hull == 0.0 and result.thermo[9].decomposition == {7: 1.0}
    assert result.thermo[9].decomposition_energy == result.thermo[7].decomposition_energy < 0
    assert result.thermo[8].e_above_hull == pytest.approx(0.1)
    assert result.thermo[8].decomposition_energy == pytest.approx(result.thermo[7].decomposition_energy + 0.1)
    assert (
        result.thermo[1].is_stable and result.thermo[4].e_above_hull == 0.0 and not result.thermo[4].is_stable
    )
    assert result.thermo[3].e_above_hull == pytest.approx(0.5) and result.thermo[3].decomposition == {1: 1.0}
    assert result.thermo[1].decomposition_energy == 0.0 and result.thermo[
        3
    ].decomposition_energy == pytest.approx(0.5)
    assert_matches_pymatgen(entries)


def test_collinear_points_on_a_tie_line_are_not_vertices():
    entries = [
        entry(1, {"A": 1}, 0.0),
        entry(2, {"B": 1}, 0.0),
        entry(3, {"A": 1, "B": 1}, -1.0),
        entry(4, {"A": 3, "B": 1}, -0.5),  # exactly on the A--AB line
        entry(5, {"A": 1, "B": 3}, -0.5),  # exactly on the AB--B line
    ]
    result = compute_hulls(entries)
    for key in (4, 5):
        assert not result.thermo[key].is_stable and result.thermo[key].e_above_hull == 0.0
    assert result.thermo[4].decomposition == pytest.approx({1: 0.5, 3: 0.5})
    assert result.hulls["A-B"].stable_keys == (1, 2, 3)
    diagram, _, pd_entries = pymatgen_diagram(entries)
    for pd_entry, e in zip(pd_entries, entries, strict=True):
        assert result.thermo[e.key].e_above_hull == pytest.approx(diagram.get_e_above_hull(pd_entry), abs=TOL)


def test_coplanar_points_and_a_flat_ternary():
    corners = [entry(1, {"A": 1}, -1.0), entry(2, {"B": 1}, -2.0), entry(3, {"C": 1}, -3.0)]
    flat = corners + [entry(4, {"A": 1, "B": 1, "C": 1}, -2.0), entry(5, {"A": 1, "B": 1}, -1.5)]
    result = compute_hulls(flat)  # every compound exactly on the reference plane: nothing stable
    assert result.hulls["A-B-C"].stable_keys == (1, 2, 3)
    assert result.thermo[4].e_above_hull == 0.0 and not result.thermo[4].is_stable
    assert result.thermo[4].decomposition == pytest.approx({1: 1 / 3, 2: 1 / 3, 3: 1 / 3})
    assert_matches_pymatgen(flat)

    coplanar = corners + [
        entry(4, {"A": 1, "B": 1}, -2.5),  # E_f = -1 at each edge midpoint
        entry(5, {"B": 1, "C": 1}, -3.5),
        entry(6, {"A": 1, "C": 1}, -3.0),
        entry(7, {"A": 1, "B": 1, "C": 1}, -3.0),  # E_f = -1 at the centroid: in the midpoints' plane
    ]
    result = compute_hulls(coplanar)
    assert result.hulls["A-B-C"].stable_keys == (1, 2, 3, 4, 5, 6)
    assert result.thermo[7].e_above_hull == pytest.approx(0.0, abs=1e-12) and not result.thermo[7].is_stable
    assert sum(result.thermo[7].decomposition.values()) == pytest.approx(1.0)
    assert_matches_pymatgen(coplanar, gnome=False)


def test_entry_below_every_elemental_reference_and_far_above_hull():
    entries = [
        entry(1, {"Na": 1}, -1.3),
        entry(2, {"Cl": 1}, -1.8),
        entry(3, {"Na": 1, "Cl": 1}, -25.0),  # far below both references
        entry(4, {"Na": 3, "Cl": 1}, 40.0),  # absurdly high
        entry(5, {"Na": 1, "Cl": 3}, -3.0),
    ]
    result = compute_hulls(entries)
    assert result.thermo[3].is_stable and result.thermo[3].formation_energy_per_atom == pytest.approx(-23.45)
    assert result.thermo[4].e_above_hull > 40 and not result.thermo[5].is_stable
    assert_matches_pymatgen(entries)


def test_unary_system_alone():
    entries = [entry(10, {"Si": 2}, -5.4), entry(11, {"Si": 8}, -5.3), entry(12, {"Si": 1}, -5.45)]
    result = compute_hulls(entries)
    assert result.hulls["Si"].stable_keys == (12,) and result.hulls["Si"].facets == ((12,),)
    assert result.thermo[12] == EntryThermo(12, "Si", 0.0, 0.0, {12: 1.0}, 0.0, True, ())
    assert result.thermo[11].e_above_hull == pytest.approx(0.15)
    assert result.thermo[11].decomposition == {12: 1.0}
    assert_matches_pymatgen(entries)


def test_missing_elemental_reference_is_flagged_not_guessed():
    entries = [
        entry(1, {"Li": 1}, -1.9),
        entry(2, {"Li": 2, "S": 1}, -4.0),  # no sulfur reference
        entry(3, {"Li": 1, "S": 1, "O": 4}, -6.0),
        entry(4, {"O": 1}, -4.9),
        entry(5, {"Li": 2, "O": 1}, -4.8),
    ]
    result = compute_hulls(entries)
    for key in (2, 3):
        thermo = result.thermo[key]
        assert thermo.missing_elements == ("S",)
        assert thermo.e_above_hull is None and thermo.formation_energy_per_atom is None
        assert (
            thermo.decomposition is None and thermo.decomposition_energy is None and thermo.is_stable is None
        )
    assert result.hulls["Li-O-S"].missing_elements == ("S",) and result.hulls["Li-O-S"].stable_keys == ()
    assert result.thermo[5].is_stable and result.thermo[5].missing_elements == ()


@pytest.mark.parametrize("n_elements", [5, 6, 7, 8])
def test_many_element_systems_match_pymatgen(n_elements):
    rng = random.Random(n_elements)
    entries = random_catalogue(rng, ELEMENTS[:n_elements], 25 * n_elements)
    assert_matches_pymatgen(entries, gnome=n_elements <= 6)


def test_random_ternaries_and_quaternaries_match_pymatgen():
    for seed in range(4):
        rng = random.Random(100 + seed)
        assert_matches_pymatgen(random_catalogue(rng, ELEMENTS[: 3 + seed % 2], 40))


@pytest.mark.parametrize("fallback", ["insertion", "qhull"])
def test_decomposition_energies_from_the_fallbacks_match_pymatgen(monkeypatch, fallback):
    """With the neighbourhood enumeration switched off, every stable entry's GNoME energy comes from the
    hull of the admissible points: built by insertion, or (insertion switched off too) by qhull."""
    from hull.engine import system

    monkeypatch.setattr(system, "MAX_SUBSETS", 0)
    if fallback == "qhull":
        monkeypatch.setattr(system, "_separation_by_insertion", lambda *args: None)
    for seed, n_elements in ((7, 3), (8, 4), (9, 5)):
        rng = random.Random(seed)
        assert_matches_pymatgen(random_catalogue(rng, ELEMENTS[:n_elements], 20 * n_elements))


# --- invariants, determinism, subsets -----------------------------------------------------


def lp_hull_energy(entries: list[PhaseEntry], composition: dict[str, float], elements: list[str]) -> float:
    """Independent reference: the lowest energy per atom of any mixture with this composition."""
    matrix = np.array(
        [[e.composition.get(el, 0) / sum(e.composition.values()) for e in entries] for el in elements]
    )
    total = sum(composition.values())
    target = np.array([composition.get(el, 0) / total for el in elements])
    energies = np.array([e.energy_per_atom for e in entries])
    solution = linprog(energies, A_eq=matrix, b_eq=target, bounds=(0, None), method="highs")
    return float(solution.fun)


@pytest.mark.slow
def test_six_element_system_with_20000_entries():
    rng = random.Random(6)
    elements = ELEMENTS[:6]
    entries = random_catalogue(rng, elements, 20_000, max_amount=6)
    result = compute_hulls(entries)
    assert len(result.thermo) == len(entries)
    for thermo in result.thermo.values():
        assert thermo.e_above_hull >= 0.0
        assert sum(thermo.decomposition.values()) == pytest.approx(1.0, abs=1e-6)
    by_key = {e.key: e for e in entries}
    for e in rng.sample(entries, 25):
        thermo = result.thermo[e.key]
        hull_energy = lp_hull_energy(entries, dict(e.composition), elements)
        assert e.energy_per_atom - thermo.e_above_hull == pytest.approx(hull_energy, abs=TOL)
        mixture = sum(by_key[k].energy_per_atom * a for k, a in thermo.decomposition.items())
        assert mixture == pytest.approx(hull_energy, abs=TOL)


def test_deterministic_under_shuffling_and_systems_subset():
    rng = random.Random(3)
    entries = random_catalogue(rng, ELEMENTS[:4], 150) + random_catalogue(random.Random(4), ["K", "Cl"], 0)
    entries += [entry(1000 + i, {"K": 1, "Cl": 1 + i % 3}, -2.0 - i / 10) for i in range(6)]
    for i, e in enumerate(entries):
        entries[i] = PhaseEntry(i, e.composition, e.energy_per_atom)
    full = compute_hulls(entries)
    shuffled = entries[:]
    rng.shuffle(shuffled)
    assert compute_hulls(shuffled) == full
    partial = compute_hulls(entries, systems=["Fe-Li", "O-Li-Fe"])
    assert set(partial.hulls) == {"Fe-Li", "Fe-Li-O"}
    assert partial.thermo == {k: t for k, t in full.thermo.items() if t.chemsys in partial.hulls}
    assert all(partial.hulls[cs] == full.hulls[cs] for cs in partial.hulls)
    assert compute_hulls(entries, workers=2) == full  # forked workers give the identical result


# --- the real Materials Project data --------------------------------------------------------


@pytest.fixture(scope="module")
def mp_catalogue(mp_entry_dicts):
    from pymatgen.entries.computed_entries import ComputedStructureEntry

    computed = [ComputedStructureEntry.from_dict(d) for d in mp_entry_dicts]
    entries = [
        PhaseEntry(
            i, {str(el): amt for el, amt in c.composition.get_el_amt_dict().items()}, c.energy_per_atom
        )
        for i, c in enumerate(computed)
    ]
    return computed, entries


def test_real_mp_entries_match_pymatgen(mp_catalogue):
    computed, entries = mp_catalogue
    result = compute_hulls(entries)
    by_system: dict[str, list[int]] = defaultdict(list)
    for key, thermo in result.thermo.items():
        by_system[thermo.chemsys].append(key)
    maximal = [s for s in by_system if not any(s != o and is_subsystem(s, o) for o in by_system)]
    checked = 0
    for top in maximal:
        members = [k for cs, keys in by_system.items() if is_subsystem(cs, top) for k in keys]
        diagram = pymatgen_pd.PhaseDiagram([computed[k] for k in members])
        index_of = {id(computed[k]): k for k in members}
        for key in members:
            thermo, reference = result.thermo[key], computed[key]
            assert thermo.e_above_hull == pytest.approx(diagram.get_e_above_hull(reference), abs=TOL)
            assert thermo.formation_energy_per_atom == pytest.approx(
                diagram.get_form_energy_per_atom(reference), abs=TOL
            )
            if thermo.is_stable:
                continue
            expected = diagram.get_decomposition(reference.composition)
            got = {
                (computed[k].composition.reduced_formula, round(computed[k].energy_per_atom, 9)): a
                for k, a in thermo.decomposition.items()
            }
            want = {
                (p.composition.reduced_formula, round(p.energy_per_atom, 9)): a for p, a in expected.items()
            }
            assert got.keys() == want.keys()
            assert all(abs(got[c] - want[c]) <= TOL for c in want)
            checked += 1
        if top in {"Cl-Li-O", "C-Mn-Y", "Cl-K-Na-Y", "Cl-O-Y"}:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for key in members:
                    thermo = result.thermo[key]
                    if thermo.is_stable or thermo.e_above_hull < 0.05:
                        energy = diagram.get_decomp_and_phase_separation_energy(computed[key])[1]
                        assert thermo.decomposition_energy == pytest.approx(energy, abs=TOL), index_of
    assert checked > 2000
    assert sum(t.is_stable for t in result.thermo.values()) > 100
