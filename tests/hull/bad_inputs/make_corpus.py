"""Write the bad-input corpus of the ingest: files of every format, each holding a few good rows of real small
Materials Project structures and one or more bad rows, and ``manifest.json`` saying per case which source ids are
good, which rows are bad and a fragment of the error each bad row must get (or the error of a file refused as a
whole). ``tests/hull/test_bad_inputs.py`` ingests every case.

Run from the project root after changing it (the output is committed; the generator is deterministic)::

    .venv/bin/python tests/hull/bad_inputs/make_corpus.py

The rows are in ``corpus_rows.py``, their files in each format in ``corpus_files.py`` and the cases in
``corpus_cases.py``.
"""

import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.hull.bad_inputs.corpus_cases import all_cases  # noqa: E402
from tests.hull.bad_inputs.corpus_files import label, write_case  # noqa: E402
from tests.hull.bad_inputs.corpus_rows import FORMATS, HERE, POOL, Case, pool  # noqa: E402


def manifest_entry(case: Case, path: Path, base: Path) -> dict:
    # Each bad row's label is its position among the case's rows as written.
    bad = [
        {"row": label(case.fmt, i), "error": row.bad}
        for i, row in enumerate(case.rows)
        if row.bad is not None
    ]
    return {
        "format": case.fmt,
        "path": str(path.relative_to(base)),
        "good": [] if case.file_error else sorted(str(row.id) for row in case.rows if row.bad is None),
        "bad": bad,
        "file_error": case.file_error,
    }


def make_symlinks(case: Case, path: Path) -> None:
    for row in case.rows:
        if "symlink" in row.extra:
            link = path / row.extra["file"]
            link.symlink_to(row.extra["symlink"])


def main() -> None:
    POOL.extend(pool())
    base = HERE
    for fmt in FORMATS:
        shutil.rmtree(base / fmt, ignore_errors=True)
    (base / "outside.txt").write_text("a file outside every case folder: no energies.csv may reach it\n")
    manifest = {}
    for case in all_cases():
        key = f"{case.fmt}/{case.name}"
        if key in manifest:
            raise SystemExit(f"two cases named {key}")
        path = write_case(case, base)
        make_symlinks(case, path if path.is_dir() else path.parent)
        manifest[key] = manifest_entry(case, path, base)
    (base / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    size = sum(p.stat().st_size for p in base.rglob("*") if p.is_file() and not p.is_symlink())
    print(f"{len(manifest)} cases, {size / 1e6:.2f} MB under {base}")


if __name__ == "__main__":
    main()
