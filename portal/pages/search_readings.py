"""What the search page says about how it read what was typed: ``licoo2`` read as LiCoO2, ``co`` as Co (or
C and O, one click away), ``abo3`` as ABO3 with O oxygen, ``p63/mmc`` as P6_3/mmc (194)."""

from django.http import QueryDict
from pymatgen.core import Element

from hull.formula_input import ANONYMOUS_TOKEN, formula_readings, pattern_text
from hull.search import EntrySearch
from hull.space_groups import space_group_symbol
from portal.pages.params import with_param


def _anonymous_meaning(search: EntrySearch) -> str:
    """``A, B: any elements, each a different one; O: oxygen``."""
    named = [element for element, _ in search.anonymous_named]
    text = pattern_text(search.anonymous_formula, search.anonymous_named)
    letters = [name for name, _ in ANONYMOUS_TOKEN.findall(text) if name not in named]
    parts = []
    if letters:
        parts.append(
            f"{', '.join(letters)}: any element{'s, each a different one' if len(letters) > 1 else ''}"
        )
    parts += [f"{element}: {Element(element).long_name.lower()}" for element in named]
    return "; ".join(parts)


def readings_of(query: QueryDict, search: EntrySearch) -> list[dict]:
    """One note per field whose typed text was read as something else or could be read otherwise: ``field``,
    ``typed``, ``read``, ``meaning`` and ``others`` (other readings, each with a link searching it instead)."""
    notes = []
    typed = query.get("formula", "").strip()
    if typed:
        readings = formula_readings(typed)
        if readings != [typed]:
            others = [(text, with_param(query, formula=text, page=None)) for text in readings[1:4]]
            notes.append(
                {"field": "Formula", "typed": typed, "read": readings[0], "meaning": "", "others": others}
            )
    typed = query.get("anonymous_formula", "").strip()
    if typed:
        read = pattern_text(search.anonymous_formula, search.anonymous_named)
        notes.append(
            {
                "field": "Anonymous formula",
                "typed": typed,
                "read": read,
                "meaning": _anonymous_meaning(search),
            }
        )
    typed = query.get("chemsys", "").strip()
    if typed and typed != search.chemsys:
        notes.append({"field": "Chemical system", "typed": typed, "read": search.chemsys, "meaning": ""})
    typed = query.get("spacegroup_symbol", "").strip()
    if typed and search.spacegroup_number is not None:
        number = search.spacegroup_number
        read = f"{space_group_symbol(number)} (number {number})"
        notes.append({"field": "Space group", "typed": typed, "read": read, "meaning": ""})
    return notes
