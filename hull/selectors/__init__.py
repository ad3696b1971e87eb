"""Selectors: the read side of the catalogue.

- :mod:`hull.selectors.catalogue`: entries, counts and state of the catalogue;
- :mod:`hull.selectors.elements`: chemical systems (and rows naming one) by the elements they hold;
- :mod:`hull.selectors.search`: the one read of catalogue pages (search page, REST and OPTIMADE lists). It is
  imported from its module (``hull.selectors.search``), not from here: it builds on :mod:`hull.search`, which
  builds on the element conditions.
"""

from hull.selectors.catalogue import (
    catalogue_elements,
    catalogue_has_band_gaps,
    catalogue_state,
    catalogue_stats,
    check_hull_set,
    entries_in_chemsys,
    entry_get,
    hull_provenance,
    hull_sets_with_entries,
    stable_by_source,
)
from hull.selectors.elements import (
    ONLY_ENUMERATED,
    NameHolds,
    Systems,
    chemsys_names_with_elements,
    chemsys_with_elements,
    entries_with_elements,
    system_holds,
    systems_with_elements,
)

__all__ = [
    "ONLY_ENUMERATED",
    "NameHolds",
    "Systems",
    "catalogue_elements",
    "catalogue_has_band_gaps",
    "catalogue_state",
    "catalogue_stats",
    "check_hull_set",
    "chemsys_names_with_elements",
    "chemsys_with_elements",
    "entries_in_chemsys",
    "entries_with_elements",
    "entry_get",
    "hull_provenance",
    "hull_sets_with_entries",
    "stable_by_source",
    "system_holds",
    "systems_with_elements",
]
