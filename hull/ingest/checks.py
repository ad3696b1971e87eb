"""The ingest's input rules: what a row may hold before anything is parsed further, computed or stored. Pure: no
Django import; the service derives ``Limits`` from the settings and the ``Entry`` columns and passes them in.

Each rule is one small function that returns the problems it finds as sentences naming the offending value.
The structure rules run on the raw JSON dicts of a file (before pymatgen parses them: pymatgen silently drops a NaN
amount) and on every parsed ``Structure`` before spglib or a distance matrix sees it (spglib segfaults on a NaN
coordinate). Limits on elements and sites are checked first, so that nothing expensive runs on an entry that would
be refused anyway (a hull update enumerates every one of the 2^n subsystems of an n-element entry).
"""

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Characters no column or JSON value may hold: PostgreSQL refuses NUL in text and jsonb, and the other control
# characters (tab excepted) have no place in an id, a method label or a file name.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Limits:
    """What one row may hold. ``text_lengths`` maps an ``EntryRecord`` text attribute to its column's length."""

    max_elements: int = 10
    max_sites: int = 500
    max_amount: float = 1e6
    min_site_distance: float = 0.5
    max_json_depth: int = 32
    text_lengths: Mapping[str, int] = field(default_factory=lambda: {"source_id": 128, "method": 64})


DEFAULT_LIMITS = Limits()

# A lattice whose volume is at most this (Å^3) is singular for every purpose of the catalogue.
MIN_VOLUME = 1e-6
# Fractional coordinates beyond this are no position in a crystal but an overflow waiting to happen.
MAX_FRACTIONAL = 1e4
# Cartesian positions (Å), as extended XYZ gives them.
MAX_CARTESIAN = 1e6


def is_number(value: object) -> bool:
    """A real number (``bool`` is not one, whatever Python says)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def shown(value: object, limit: int = 40) -> str:
    """``value`` as it may appear in a message: control characters escaped, long text shortened."""
    text = value if isinstance(value, str) else repr(value)
    text = CONTROL_CHARACTERS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def text_problem(name: str, value: object, max_length: int) -> str | None:
    """Why ``value`` cannot be stored in a text column of ``max_length`` characters, or None."""
    if not isinstance(value, str):
        return f"{name} is {shown(value)}: it must be text"
    if not value.strip():
        return f"{name} is empty"
    if len(value) > max_length:
        return f"{name} is {len(value)} characters long: at most {max_length} fit its column"
    if CONTROL_CHARACTERS.search(value):
        return f"{name} {shown(value)} holds a NUL or control character"
    return None


def json_problems(value: Any, name: str, max_depth: int) -> list[str]:
    """What keeps ``value`` out of a JSON column: non-finite numbers, NUL bytes, nesting deeper than ``max_depth``.

    Each item's place (``data.a[2]``) is written out only for a problem: the walk itself keeps a chain of keys. A value
    that the C encoder writes with no NUL escape and fewer brackets than ``max_depth`` has none of these problems and
    is not walked (the walk took longer than the rest of checking a CSV row)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError):  # walked below, which names the place
        pass
    else:
        if "\\u0000" not in text and text.count("[") + text.count("{") <= max_depth:
            return []
    problems: list[str] = []
    stack: list[tuple[Any, tuple | None, int]] = [(value, None, 0)]
    while stack and len(problems) < 3:
        item, at, depth = stack.pop()
        if depth > max_depth:
            problems.append(f"{name} is nested more than {max_depth} levels deep")
            break
        if isinstance(item, float):
            if not math.isfinite(item):
                problems.append(f"{_place(name, at)} is {item!r}: JSON holds only finite numbers")
        elif isinstance(item, str):
            if "\x00" in item:
                problems.append(f"{_place(name, at)} holds a NUL byte")
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    problems.append(f"{_place(name, at)} has a key with a NUL byte")
                stack.append((child, (at, key, False), depth + 1))
        elif isinstance(item, list | tuple):
            stack.extend((child, (at, i, True), depth + 1) for i, child in enumerate(item))
    return problems


def _place(name: str, at: tuple | None) -> str:
    """The place of an item in a JSON value from its chain of (parent, key, in a list) links: ``data.a[2]``."""
    parts = []
    while at is not None:
        at, key, in_list = at
        parts.append(f"[{key}]" if in_list else f".{shown(key, 20)}")
    return name + "".join(reversed(parts))


def amount_problems(composition: object, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """A raw composition (symbol -> amount, as read from a file): at most ``max_elements`` elements, each amount
    a positive finite number below ``max_amount``."""
    if not isinstance(composition, Mapping) or not composition:
        return [f"composition {shown(composition)} must be a non-empty mapping of element to amount"]
    if len(composition) > limits.max_elements:
        return [f"{len(composition)} elements: at most {limits.max_elements} are allowed per entry"]
    problems = []
    for symbol, amount in composition.items():
        if not is_number(amount) or not math.isfinite(amount):
            problems.append(f"amount of {shown(symbol)} is {shown(amount)}: it must be a finite number")
        elif amount <= 0:
            problems.append(f"amount of {shown(symbol)} is {amount!r}: it must be positive")
        elif amount > limits.max_amount:
            problems.append(
                f"amount of {shown(symbol)} is {amount:g}: at most {limits.max_amount:g} is allowed"
            )
    return problems


def composition_mismatch(raw: Mapping[str, float], parsed: Mapping[str, float]) -> str | None:
    """Why the composition pymatgen parsed differs from the raw one of the file (pymatgen drops some amounts
    silently), or None. Both map element symbols to amounts; only proportions are compared."""
    raw_total, parsed_total = sum(raw.values()), sum(parsed.values())
    if set(raw) != set(parsed) or raw_total <= 0 or parsed_total <= 0:
        return f"the file's composition {_formula(raw)} was read as {_formula(parsed)}"
    for symbol, amount in raw.items():
        if not math.isclose(amount / raw_total, parsed[symbol] / parsed_total, rel_tol=1e-6, abs_tol=1e-9):
            return f"the file's composition {_formula(raw)} disagrees with its structure {_formula(parsed)}"
    return None


def matrix_problems(matrix: object, name: str = "lattice") -> list[str]:
    """A lattice matrix: 3 x 3 finite numbers spanning a non-zero volume."""
    if (
        not isinstance(matrix, list | tuple)
        or len(matrix) != 3
        or any(not isinstance(row, list | tuple) or len(row) != 3 for row in matrix)
    ):
        return [f"{name} must be a 3 x 3 matrix"]
    if any(not is_number(x) or not math.isfinite(x) for row in matrix for x in row):
        return [f"{name} {shown(matrix, 80)} holds a value that is not a finite number"]
    (a, b, c), (d, e, f), (g, h, i) = matrix
    volume = abs(a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g))
    if volume <= MIN_VOLUME:
        return [f"{name} is singular (cell volume {volume:g} Å^3)"]
    return []


def coordinate_problems(coordinates: Iterable[object], bound: float = MAX_FRACTIONAL) -> list[str]:
    """Site coordinates: three finite numbers each, none beyond ``bound`` (fractional coordinates by default)."""
    for i, xyz in enumerate(coordinates):
        if not isinstance(xyz, list | tuple) or len(xyz) != 3:
            return [f"site {i} coordinates {shown(xyz)} must be three numbers"]
        if any(not is_number(x) or not math.isfinite(x) for x in xyz):
            return [f"site {i} coordinates {shown(list(xyz), 60)} are not finite numbers"]
        if any(abs(x) > bound for x in xyz):
            return [
                f"site {i} coordinates {shown(list(xyz), 60)} lie far outside the cell (beyond {bound:g})"
            ]
    return []


def site_count_problem(nsites: int, limits: Limits = DEFAULT_LIMITS) -> str | None:
    if nsites > limits.max_sites:
        return f"{nsites} sites: at most {limits.max_sites} are allowed per cell"
    if nsites < 1:
        return "the structure has no sites"
    return None


def raw_structure_problems(structure: object, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """A pymatgen ``Structure.as_dict()`` as read from a file, before pymatgen parses it: the site and element
    limits, the lattice, every coordinate and every occupancy."""
    if not isinstance(structure, Mapping):
        return ["structure must be a JSON object"]
    sites = structure.get("sites")
    if not isinstance(sites, list):
        return ["structure has no list of sites"]
    problem = site_count_problem(len(sites), limits)
    if problem:
        return [problem]
    lattice = structure.get("lattice")
    matrix = lattice.get("matrix") if isinstance(lattice, Mapping) else None
    problems = matrix_problems(matrix)
    occupancies: dict[str, float] = {}
    for i, site in enumerate(sites):
        if not isinstance(site, Mapping) or not isinstance(site.get("species"), list):
            return [*problems, f"site {i} has no list of species"]
        for specie in site["species"]:
            symbol = specie.get("element") if isinstance(specie, Mapping) else None
            occu = specie.get("occu") if isinstance(specie, Mapping) else None
            if not is_number(occu) or not math.isfinite(occu) or occu <= 0 or occu > 1 + 1e-6:
                return [
                    *problems,
                    f"site {i} occupancy of {shown(symbol)} is {shown(occu)}: it must be in (0, 1]",
                ]
            occupancies[str(symbol)] = occupancies.get(str(symbol), 0.0) + occu
    if len(occupancies) > limits.max_elements:
        return [
            *problems,
            f"{len(occupancies)} elements: at most {limits.max_elements} are allowed per entry",
        ]
    coordinates = [site.get("abc") for site in sites]
    return problems + coordinate_problems(coordinates)


def parsed_structure_problems(structure: Any, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """A parsed pymatgen ``Structure``, before spglib or a distance matrix sees it: the site and element limits,
    a finite non-singular lattice, finite coordinates and site data that a JSON column can hold."""
    problem = site_count_problem(len(structure), limits)
    if problem:
        return [problem]
    elements = structure.composition.elements
    if len(elements) > limits.max_elements:
        return [f"{len(elements)} elements: at most {limits.max_elements} are allowed per entry"]
    problems = matrix_problems(structure.lattice.matrix.tolist())
    problems += coordinate_problems(structure.frac_coords.tolist())
    for i, site in enumerate(structure):
        found = json_problems(
            {"label": site.label, "properties": site.properties}, f"site {i}", limits.max_json_depth
        )
        if found:
            return problems + found
    return problems


def member_path_problem(folder: Path, name: str) -> str | None:
    """Why ``name`` (from a list of files such as ``energies.csv``) does not name a file inside ``folder``: an
    absolute path, a ``..`` part, a NUL byte or a link that leads out of the folder. None when it is inside."""
    if "\x00" in name:
        return f"file name {shown(name)} holds a NUL byte"
    relative = Path(name)
    if relative.is_absolute() or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"file name {shown(name)} is an absolute path: name a file inside {folder.name}/"
    if ".." in relative.parts or ".." in name.replace("\\", "/").split("/"):
        return f"file name {shown(name)} leads out of {folder.name}/ ('..')"
    try:
        inside = (folder / relative).resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError) as exc:  # a loop of links
        return f"file name {shown(name)} cannot be resolved ({exc})"
    if not inside:
        return f"file name {shown(name)} is a link that leads out of {folder.name}/"
    return None


def _formula(composition: Mapping[str, float]) -> str:
    return " ".join(f"{shown(symbol, 8)}{amount:g}" for symbol, amount in composition.items()) or "nothing"
