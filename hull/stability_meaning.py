"""What each stability value means, said once: the REST API's serializers (materials, phase diagrams, the stability
check) and OPTIMADE's /info/structures take their descriptions from here. Every energy is in eV/atom, in one hull
set, and null where an element of the entry has no elemental reference in it. No Django import.

The values are pymatgen's: for a catalogue entry, of ``PhaseDiagram(entries)`` over the hull set's entries; for the
stability check, of the hypothetical entry added to them.
"""

STABILITY_MEANING = {
    "formation_energy_per_atom": (
        "eV/atom: energy per atom minus the atom-fraction-weighted energies of the elemental references: for each "
        "element the lowest-energy entry of that element in the hull set"
    ),
    "e_above_hull": (
        "eV/atom: distance above the lower convex hull of the hull set's entries with this entry among them (>= 0): "
        "0 when the entry is stable or ties a stable entry of its composition (pymatgen: "
        "PhaseDiagram(entries + [entry]).get_e_above_hull(entry))"
    ),
    "decomposition_energy": (
        "eV/atom: energy per atom minus that of the lowest-energy combination of the hull set's entries of other "
        "compositions with the same overall composition (Bartel et al. 2020; GNoME's decomposition energy; pymatgen: "
        "PhaseDiagram(entries).get_decomp_and_phase_separation_energy(entry)). Negative means the entry lies that "
        "far below every other phase; a stable entry always has a negative value. Not a stability flag: where the "
        "hull set already has a stable entry of this composition, that entry is left out of the comparison, so an "
        "entry above it (is_stable false, e_above_hull > 0) can still have a negative value. Where it has none, "
        "the value is the signed distance to the hull: e_above_hull above it, negative below it. For an element: "
        "its energy minus the hull set's reference of that element"
    ),
    "is_stable": (
        "whether the entry is on the hull (for the stability check: would be): below the hull of the hull set's "
        "other entries (a compound also more than 1e-11 eV/atom below its elemental references); of entries at "
        "equal energy of one composition, the one already in the hull set stays the stable one (pymatgen: entry in "
        "PhaseDiagram(entries + [entry]).stable_entries). Null where an element has no reference"
    ),
    "decomposition": (
        'the hull set\'s entries the composition decomposes into on the hull, [{"entry": key, "public_id", '
        '"formula", "amount": atom fraction}], amounts summing to 1: the products behind e_above_hull (a '
        "polymorph: its stable polymorph alone). A stable catalogue entry is its own decomposition (itself, amount 1); "
        "the stability check answers it empty for an entry that would be stable"
    ),
    "missing_elements": "elements with no elemental entry in the hull set; every energy is null while there are any",
}
