"""Names of well-known structure types, so that a prototype reads "rocksalt" or "spinel" instead of an internal key.

A structure type is matched by the anonymous formula of its reduced composition (OPTIMADE order, as
:func:`hull.formulas.anonymous_formula` writes it), its space group number, and the Wyckoff letters of its
symmetrically distinct sites (a sorted sequence, one letter per orbit, as spglib assigns them in the standard
setting); then its anonymised structure must match the type's, built from the table, under pymatgen's
``StructureMatcher`` (the free parameters: see :data:`MATCHER`). A type lists every letter sequence its structures
take: an origin shift of the space group's normalizer relabels the orbits of one structure (spinel's 8a 16d 32e is
also 8b 16c 32e).

The table is data: each type's example compound, space group, lattice and positions, from the standard
crystallographic descriptions of these types (e.g. Müller, Inorganic Structural Chemistry, 2nd ed., Wiley 2007;
Strukturbericht designations where there is one). Pure: no Django import.
"""

from dataclasses import dataclass
from functools import cache

from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hull.formulas import anonymous_formula


@dataclass(frozen=True)
class StructureType:
    """A structure type as crystallography describes it: an example compound, its space group (symbol and
    number), lattice (pymatgen ``Lattice`` constructor and its lengths in Å), species and positions of the
    distinct sites, and the Wyckoff letter sequences its structures take (sorted, one letter per orbit)."""

    name: str
    example: str
    spacegroup: str
    spacegroup_number: int
    lattice: tuple[str, tuple[float, ...]]
    species: tuple[str, ...]
    positions: tuple[tuple[float, float, float], ...]
    wyckoff: tuple[str, ...]

    @property
    def anonymous_formula(self) -> str:
        return anonymous_formula(Composition(self.example))

    def structure(self) -> Structure:
        """The type's structure, built from its description."""
        constructor, lengths = self.lattice
        lattice = getattr(Lattice, constructor)(*lengths)
        return Structure.from_spacegroup(
            self.spacegroup, lattice, list(self.species), [list(p) for p in self.positions]
        )


T = StructureType
R3 = 1 / 3
# One type per line, so that the table reads as a table.
# fmt: off
STRUCTURE_TYPES: tuple[StructureType, ...] = (
    # elements
    T("fcc (copper, A1)", "Cu", "Fm-3m", 225, ("cubic", (3.61,)), ("Cu",), ((0, 0, 0),), ("a", "b")),
    T("bcc (tungsten, A2)", "W", "Im-3m", 229, ("cubic", (3.16,)), ("W",), ((0, 0, 0),), ("a",)),
    T("hcp (magnesium, A3)", "Mg", "P6_3/mmc", 194, ("hexagonal", (3.21, 5.21)), ("Mg",), ((R3, 2 * R3, 0.25),), ("c", "d")),
    T("diamond (A4)", "C", "Fd-3m", 227, ("cubic", (3.57,)), ("C",), ((0, 0, 0),), ("a", "b")),
    T("graphite (A9)", "C", "P6_3/mmc", 194, ("hexagonal", (2.46, 6.71)), ("C", "C"), ((0, 0, 0.25), (R3, 2 * R3, 0.25)), ("bc", "bd")),
    # AB
    T("rocksalt (NaCl, B1)", "NaCl", "Fm-3m", 225, ("cubic", (5.64,)), ("Na", "Cl"), ((0, 0, 0), (0.5, 0.5, 0.5)), ("ab",)),
    T("CsCl (B2)", "CsCl", "Pm-3m", 221, ("cubic", (4.12,)), ("Cs", "Cl"), ((0, 0, 0), (0.5, 0.5, 0.5)), ("ab",)),
    T("zincblende (ZnS, B3)", "ZnS", "F-43m", 216, ("cubic", (5.41,)), ("Zn", "S"), ((0, 0, 0), (0.25, 0.25, 0.25)), ("ac", "ad", "bc", "bd")),
    T("wurtzite (ZnO, B4)", "ZnO", "P6_3mc", 186, ("hexagonal", (3.25, 5.21)), ("Zn", "O"), ((R3, 2 * R3, 0), (R3, 2 * R3, 0.382)), ("bb",)),
    T("NiAs (B8₁)", "NiAs", "P6_3/mmc", 194, ("hexagonal", (3.62, 5.03)), ("Ni", "As"), ((0, 0, 0), (R3, 2 * R3, 0.25)), ("ac", "ad")),
    # AB2 (A2B in OPTIMADE order)
    T("fluorite / antifluorite (CaF2, C1)", "CaF2", "Fm-3m", 225, ("cubic", (5.46,)), ("Ca", "F"), ((0, 0, 0), (0.25, 0.25, 0.25)), ("ac", "bc")),
    T("rutile (TiO2, C4)", "TiO2", "P4_2/mnm", 136, ("tetragonal", (4.59, 2.96)), ("Ti", "O"), ((0, 0, 0), (0.305, 0.305, 0)), ("af",)),
    T("anatase (TiO2, C5)", "TiO2", "I4_1/amd", 141, ("tetragonal", (3.78, 9.51)), ("Ti", "O"), ((0, 0, 0), (0, 0, 0.2083)), ("ae", "be")),
    T("pyrite (FeS2, C2)", "FeS2", "Pa-3", 205, ("cubic", (5.42,)), ("Fe", "S"), ((0, 0, 0), (0.385, 0.385, 0.385)), ("ac", "bc")),
    T("CdI2 (C6)", "CdI2", "P-3m1", 164, ("hexagonal", (4.24, 6.84)), ("Cd", "I"), ((0, 0, 0), (R3, 2 * R3, 0.25)), ("ad", "bd")),
    T("CdCl2 (C19)", "CdCl2", "R-3m", 166, ("hexagonal", (3.85, 17.46)), ("Cd", "Cl"), ((0, 0, 0), (0, 0, 0.25)), ("ac", "bc")),
    # A2B3, AB3
    T("corundum (Al2O3, D5₁)", "Al2O3", "R-3c", 167, ("hexagonal", (4.76, 12.99)), ("Al", "O"), ((0, 0, 0.352), (0.306, 0, 0.25)), ("ce",)),
    T("Cu3Au (L1₂)", "Cu3Au", "Pm-3m", 221, ("cubic", (3.75,)), ("Au", "Cu"), ((0, 0, 0), (0, 0.5, 0.5)), ("ac", "bd")),
    T("ReO3 (D0₉)", "ReO3", "Pm-3m", 221, ("cubic", (3.75,)), ("Re", "O"), ((0, 0, 0), (0.5, 0, 0)), ("ad", "bc")),
    T("BiF3 / Li3Bi (D0₃)", "BiF3", "Fm-3m", 225, ("cubic", (5.86,)), ("Bi", "F", "F"), ((0, 0, 0), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25)), ("abc",)),
    T("Li3N", "Li3N", "P6/mmm", 191, ("hexagonal", (3.65, 3.87)), ("N", "Li", "Li"), ((0, 0, 0), (0, 0, 0.5), (R3, 2 * R3, 0)), ("abc", "abd")),
    # ternaries
    T("perovskite / antiperovskite (CaTiO3, E2₁)", "SrTiO3", "Pm-3m", 221, ("cubic", (3.905,)), ("Sr", "Ti", "O"), ((0.5, 0.5, 0.5), (0, 0, 0), (0.5, 0, 0)), ("abc", "abd")),
    T("ilmenite (FeTiO3)", "FeTiO3", "R-3", 148, ("hexagonal", (5.09, 14.09)), ("Fe", "Ti", "O"), ((0, 0, 0.355), (0, 0, 0.146), (0.317, 0.02, 0.245)), ("ccf",)),
    T("layered α-NaFeO2 (LiCoO2)", "LiCoO2", "R-3m", 166, ("hexagonal", (2.82, 14.05)), ("Li", "Co", "O"), ((0, 0, 0.5), (0, 0, 0), (0, 0, 0.26)), ("abc",)),
    T("spinel (MgAl2O4, H1₁)", "MgAl2O4", "Fd-3m", 227, ("cubic", (8.08,)), ("Mg", "Al", "O"), ((0, 0, 0), (0.625, 0.625, 0.625), (0.387, 0.387, 0.387)), ("ade", "bce")),
    T("olivine (Mg2SiO4)", "Mg2SiO4", "Pnma", 62, ("orthorhombic", (10.21, 5.98, 4.76)), ("Mg", "Mg", "Si", "O", "O", "O"), ((0, 0, 0), (0.277, 0.25, 0.991), (0.094, 0.25, 0.427), (0.092, 0.25, 0.766), (0.448, 0.25, 0.221), (0.163, 0.033, 0.278)), ("accccd",)),
    T("olivine (LiFePO4, triphylite)", "LiFePO4", "Pnma", 62, ("orthorhombic", (10.33, 6.01, 4.69)), ("Li", "Fe", "P", "O", "O", "O"), ((0, 0, 0), (0.282, 0.25, 0.975), (0.095, 0.25, 0.418), (0.097, 0.25, 0.743), (0.457, 0.25, 0.206), (0.166, 0.047, 0.285)), ("accccd", "bccccd")),
)
# fmt: on
# Types whose Wyckoff positions have no free coordinate: the letters fix the structure (up to the lattice's own
# free lengths), so no structure comparison is needed (building the cubic F ones takes about a second each).
FIXED_BY_SYMMETRY = frozenset(
    {
        "fcc (copper, A1)",
        "bcc (tungsten, A2)",
        "hcp (magnesium, A3)",
        "diamond (A4)",
        "graphite (A9)",
        "rocksalt (NaCl, B1)",
        "CsCl (B2)",
        "zincblende (ZnS, B3)",
        "NiAs (B8₁)",
        "fluorite / antifluorite (CaF2, C1)",
        "Cu3Au (L1₂)",
        "ReO3 (D0₉)",
        "BiF3 / Li3Bi (D0₃)",
        "Li3N",
        "perovskite / antiperovskite (CaTiO3, E2₁)",
    }
)
# Structures of one formula, space group and Wyckoff letters can still differ in their free parameters (dry-ice CO2
# has pyrite's letters, its O2 pairs centred on C): a name needs the anonymised structures to match as well. The
# tolerances are looser than pymatgen's defaults: a type spans a range of axial ratios (CdCl2-type CoO2 and CdCl2).
MATCHER = StructureMatcher(
    ltol=0.3, stol=0.4, angle_tol=8, primitive_cell=True, scale=True, attempt_supercell=True
)


@cache
def _by_formula_and_group() -> dict[tuple[str, int], tuple[StructureType, ...]]:
    table: dict[tuple[str, int], list[StructureType]] = {}
    for kind in STRUCTURE_TYPES:
        table.setdefault((kind.anonymous_formula, kind.spacegroup_number), []).append(kind)
    return {key: tuple(kinds) for key, kinds in table.items()}


def candidates(anonymous: str, spacegroup_number: int | None) -> tuple[StructureType, ...]:
    """The structure types of this anonymous formula and space group (empty where none is known)."""
    if spacegroup_number is None:
        return ()
    return _by_formula_and_group().get((anonymous, spacegroup_number), ())


def wyckoff_letters(structure: Structure, symprec: float = 0.1) -> tuple[int, str]:
    """(space group number, the sorted Wyckoff letters of the distinct sites) by spglib at ``symprec``."""
    analyzer = SpacegroupAnalyzer(structure, symprec=symprec)
    symmetrized = analyzer.get_symmetrized_structure()
    letters = "".join(sorted(symbol.lstrip("0123456789") for symbol in symmetrized.wyckoff_symbols))
    return analyzer.get_space_group_number(), letters


def structure_type_of(
    structure: Structure, *, anonymous: str | None = None, spacegroup_number: int | None = None, symprec=0.1
) -> StructureType | None:
    """The well-known structure type of ``structure``, or ``None``. ``anonymous`` and ``spacegroup_number``
    (as stored) spare the symmetry analysis where no type has that formula and space group."""
    anonymous = anonymous or anonymous_formula(structure.composition)
    if spacegroup_number is not None and not candidates(anonymous, spacegroup_number):
        return None
    number, letters = wyckoff_letters(structure, symprec)
    return next(
        (
            kind
            for kind in candidates(anonymous, number)
            if letters in kind.wyckoff
            and (
                kind.name in FIXED_BY_SYMMETRY or MATCHER.fit_anonymous(structure, reference_structure(kind))
            )
        ),
        None,
    )


@cache
def reference_structure(kind: StructureType) -> Structure:
    """The type's primitive structure, built once per process (building a cubic one takes about a second)."""
    return kind.structure().get_primitive_structure()


def prototype_name(
    structure: dict | Structure | None,
    *,
    anonymous: str,
    spacegroup_number: int | None,
    symprec: float | None,
) -> str:
    """The name of the structure type of a prototype's example structure (a pymatgen dict as stored), or ''."""
    if structure is None or not candidates(anonymous, spacegroup_number):
        return ""
    if isinstance(structure, dict):
        structure = Structure.from_dict(structure)
    kind = structure_type_of(
        structure, anonymous=anonymous, spacegroup_number=spacegroup_number, symprec=symprec or 0.1
    )
    return kind.name if kind else ""
