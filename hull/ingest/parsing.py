"""Helpers shared by the ingest readers (``hull.ingest.readers``): JSON, CSV and text files opened with their errors
as ``FileProblem``, the numbers of a row, CIF and POSCAR parsing with the site limits checked first, and
``guarded``, which turns anything reading one row raises into a problem of that row."""

import csv
import gzip
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pymatgen.core import Structure

from hull.ingest.checks import Limits, shown, site_count_problem
from hull.ingest.records import EntryRecord, FileProblem, RowProblem, StructureRecord

Row = EntryRecord | StructureRecord | RowProblem

MP2020_METHOD = "GGA/GGA+U (MP2020)"
# A chemical formula as element symbols and amounts, once its spaces are removed ("Li2O", "Fe0.5Ni0.5").
FORMULA = re.compile(r"(?:[A-Z][a-z]?\d*(?:\.\d+)?)+")


def load_json(path: Path) -> Any:
    """JSON from a plain or gzipped file, with a clear error for unreadable or truncated files."""
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable or truncated file ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise FileProblem(
            str(path), f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise FileProblem(
            str(path), "JSON nested too deeply to read (more than Python's recursion limit)"
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise FileProblem(str(path), f"not valid JSON ({describe(exc)})") from exc


@contextmanager
def open_text(path: Path) -> Iterator[io.TextIOBase]:
    """A text file opened for streaming, with the errors of opening it as a ``FileProblem``."""
    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 - closed below
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except OSError as exc:
        raise FileProblem(str(path), f"unreadable file ({exc})") from exc
    with handle:
        yield handle


def read_csv(path: Path, aliases: dict[str, tuple[str, ...]], required: tuple[str, ...]):
    """Rows of a (small) CSV and a map from our column names to the file's headers, read defensively."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise FileProblem(str(path), "no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable file ({exc})") from exc
    reader = csv.DictReader(io.StringIO(text))
    columns = csv_columns(path, reader, aliases, required)
    try:
        rows = [(i + 2, row) for i, row in enumerate(reader)]
    except csv.Error as exc:
        raise FileProblem(str(path), f"malformed CSV ({exc})") from exc
    return rows, columns


def csv_columns(
    path: Path, reader: csv.DictReader, aliases: dict, required: tuple[str, ...]
) -> dict[str, str]:
    """A map from our column names to the file's headers; a ``FileProblem`` naming a missing required column."""
    try:
        headers = reader.fieldnames or []
    except (csv.Error, UnicodeDecodeError) as exc:
        raise FileProblem(str(path), f"unreadable or malformed CSV ({exc})") from exc
    normalised = {re.sub(r"[^a-z0-9]", "", h.lower()): h for h in headers if h is not None}
    columns = {}
    for key, names in aliases.items():
        for name in names:
            if name in normalised:
                columns[key] = normalised[name]
                break
    missing = [key for key in required if key not in columns]
    if missing:
        wanted = ", ".join(repr(aliases[key][0]) for key in missing)
        raise FileProblem(
            str(path), f"missing column {wanted} (columns present: {', '.join(headers) or 'none'})"
        )
    return columns


def find_beside(path: Path, names: tuple[str, ...]) -> Path | None:
    for name in names:
        candidate = path.parent / name
        if candidate.exists():
            return candidate
    return None


def csv_number(row: dict, columns: dict, key: str, *, required: bool = False) -> float | None:
    """The finite number in column ``key`` of a CSV row; None where the column or its value is absent, unless
    ``required``. Raises ValueError with a message naming the column and its value."""
    if key not in columns:
        return None
    raw = row.get(columns[key])
    if raw is None or str(raw).strip() == "":
        if required:
            raise ValueError(f"column {columns[key]!r} is empty: it must be a number")
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ValueError(f"column {columns[key]!r} is {shown(raw)!r}, not a number") from exc
    if not math.isfinite(value):
        raise ValueError(f"column {columns[key]!r} is {shown(raw)!r}: it must be a finite number")
    return value


def as_float(value: object) -> float | None:
    """``value`` as a finite float (a number, or text of one), or None."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | np.number):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def parse_cif(text: str, limits: Limits) -> Structure:
    """The first structure of a CIF. The atom-site rows are counted before pymatgen builds the structure (which
    takes time quadratic in the sites: 24 s for 4,096), so a CIF listing more than ``max_sites`` is refused
    unbuilt; the built structure is checked against the limits again, after symmetry expanded it."""
    import warnings

    from pymatgen.io.cif import CifParser

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = CifParser.from_str(text, site_tolerance=1e-6)
        for block in parser.as_dict().values():
            rows = block.get("_atom_site_fract_x", block.get("_atom_site_Cartn_x"))
            if isinstance(rows, list) and (problem := site_count_problem(len(rows), limits)):
                raise ValueError(f"the CIF lists {problem}")
        structures = parser.parse_structures(primitive=False, on_error="raise")
    if not structures:
        raise ValueError("no structure in the CIF")
    return structures[0]


def parse_poscar(text: str, limits: Limits) -> Structure:
    """A POSCAR's structure; its counts line is read first, so that a file of more than ``max_sites`` sites is
    refused before pymatgen builds it (6 s for 4,096 sites)."""
    lines = text.splitlines()
    for line in lines[5:7]:  # the counts follow the lattice, after an optional line of symbols
        words = line.split()
        if words and all(word.isdigit() for word in words):
            problem = site_count_problem(sum(int(word) for word in words), limits)
            if problem:
                raise ValueError(f"the POSCAR lists {problem}")
            break
    return Structure.from_str(text, fmt="poscar")


def guarded(where: str, read_row: Callable[[], Row]) -> Row:
    """``read_row()``, with anything it raises turned into a problem of that row (file and row named), so that
    one unforeseen value never escapes a reader as a raw exception or refuses a whole batch."""
    try:
        return read_row()
    except Exception as exc:
        return RowProblem(where, f"cannot read this row: {type(exc).__name__}: {describe(exc)}")


def describe(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 300 else text[:297] + "..."


def jsonable(data: dict) -> dict:
    return {k: v for k, v in data.items() if v not in (None, [], {})}
