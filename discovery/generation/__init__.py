"""Candidate generators of the discovery loop (Merchant et al., Nature 624, 80 (2023)): no Django import.

Every generator takes its inputs and keyword options, is bounded by ``budget`` and yields unique
:class:`~discovery.generation.candidates.Candidate` objects lazily:

- :func:`discovery.generation.substitution.substitution_candidates` (parents, budget, known_formulas, ...)
- :func:`discovery.generation.saps.saps_candidates` (parents, budget, pairs, charge_balance, ...)
- :func:`discovery.generation.compositions.enumerate_compositions` (elements, max_atoms, ...) -> compositions
- :func:`discovery.generation.airss.airss_candidates` (compositions, budget, seed, ...)
"""

# The paper's random structures per composition (Merchant et al., Methods: AIRSS, 100 per composition): the
# default of the AIRSS generator and of a round's ``random_structures`` setting.
PER_COMPOSITION = 100
