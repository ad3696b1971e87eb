"""Every file of the bad-input corpus (``tests/hull/bad_inputs/``, written by ``make_corpus.py`` beside it) through
the real ingest: a clear error naming file and row for every bad row, nothing written when the batch is refused,
exactly the good rows kept with ``skip_invalid``, no crash, and a stored hull equal to a full rebuild afterwards.

Reading and checking every file (the steps that could take the process down: pymatgen, spglib, ASE) first runs in a
subprocess, so that a segfault fails the cases that cause it instead of killing pytest; a case is ingested here only
once the subprocess has read it and lived.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hull.errors import CatalogueError
from hull.hull_check import hull_differences
from hull.models import Entry, HullRecord, IngestBatch, Stability
from hull.services.ingest import IngestFailed, ingest_file

CORPUS = Path(__file__).resolve().parent / "bad_inputs"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
ROOT = CORPUS.parents[2]

# Reads and checks each case named on stdin, printing "start KEY" before and "done KEY" after. Django-free: the
# readers and checks of hull/ingest/ with the default limits.
READ_EVERY_CASE = """
import json, sys
from pathlib import Path
from hull.ingest import readers
from hull.ingest.prepare import check_and_prepare
from hull.ingest.records import FileProblem
from hull.ingest.checks import DEFAULT_LIMITS
corpus = Path(sys.argv[1])
manifest = json.loads((corpus / "manifest.json").read_text())
for key in sys.stdin.read().split():
    case = manifest[key]
    print("start", key, flush=True)
    try:
        for row in readers.read(corpus / case["path"], case["format"]):
            check_and_prepare(row, limits=DEFAULT_LIMITS, symprec=0.1)
    except FileProblem:
        pass
    print("done", key, flush=True)
"""


@pytest.fixture(scope="module")
def crashed() -> dict[str, str]:
    """Cases whose reading killed a subprocess, with how it died; the others were read to the end."""
    remaining, dead = sorted(MANIFEST), {}
    while remaining:
        result = subprocess.run(
            [sys.executable, "-c", READ_EVERY_CASE, str(CORPUS)],
            input=" ".join(remaining),
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=600,
        )
        done = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("done ")]
        started = [line.split(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("start ")]
        if result.returncode == 0:
            break
        culprit = started[-1] if started and started[-1] not in done else remaining[len(done)]
        dead[culprit] = f"exit status {result.returncode}: {result.stderr[-2000:]}"
        remaining = remaining[remaining.index(culprit) + 1 :]
    return dead


def test_the_corpus_is_large_and_covers_every_format():
    formats = {case["format"] for case in MANIFEST.values()}
    assert formats == {"cse-json", "wbm-json", "gnome-csv", "cif", "poscar", "extxyz"}
    assert len(MANIFEST) >= 200
    size = sum(p.stat().st_size for p in CORPUS.rglob("*") if p.is_file() and not p.is_symlink())
    assert size < 3e6


def test_no_file_crashes_the_process(crashed):
    assert crashed == {}


def _snapshot() -> tuple:
    return (
        list(
            Entry.objects.order_by("id").values_list(
                "id", "source", "source_id", "content_hash", "updated_at"
            )
        ),
        list(Stability.objects.order_by("id").values_list("id", "entry_id", "hull_set", "e_above_hull")),
        list(HullRecord.objects.order_by("id").values_list("id", "hull_set", "chemsys_id", "version")),
        IngestBatch.objects.count(),
    )


def _ingest(case: dict, skip_invalid: bool):
    return ingest_file(path=CORPUS / case["path"], fmt=case["format"], skip_invalid=skip_invalid)


def _assert_every_bad_row_reported(key: str, case: dict, rejected: list) -> None:
    file_name = _reported_file(case)
    for problem in rejected:
        assert problem.location.startswith(f"{file_name} "), f"{key}: {problem} does not name the file"
    for bad in case["bad"]:
        matching = [p for p in rejected if p.location.startswith(f"{file_name} {bad['row']}")]
        assert matching, f"{key}: no error for {bad['row']}; got {[str(p) for p in rejected]}"
        assert any(bad["error"].lower() in p.message.lower() for p in matching), (
            f"{key}: {bad['row']} should say {bad['error']!r}; got {[str(p) for p in matching]}"
        )
    assert len(rejected) == len(case["bad"]), f"{key}: {[str(p) for p in rejected]}"


def _case_place(case: dict) -> Path:
    """The file of a case, or its folder where it is several files (GNoME CSV and zip, CIF or POSCAR folders)."""
    path = CORPUS / case["path"]
    return path.parent if case["format"] == "gnome-csv" else path


def _reported_file(case: dict) -> str:
    """The file a row error names: the JSON, CSV or XYZ file itself; for CIF and POSCAR folders energies.csv."""
    if case["format"] in ("cif", "poscar"):
        return "energies.csv"
    return Path(case["path"]).name


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(MANIFEST))
def test_bad_input(key, crashed):
    case = MANIFEST[key]
    if key in crashed:
        pytest.fail(f"{key} crashed the process that read it: {crashed[key]}")
    empty = _snapshot()
    if case["file_error"]:
        for skip_invalid in (False, True):
            with pytest.raises(CatalogueError) as info:
                _ingest(case, skip_invalid)
            assert case["file_error"] in str(info.value), str(info.value)
            assert str(_case_place(case)) in str(info.value)  # names the file
        assert _snapshot() == empty
        return
    with pytest.raises(IngestFailed) as info:
        _ingest(case, skip_invalid=False)
    _assert_every_bad_row_reported(key, case, info.value.report.rejected)
    assert str(info.value).startswith(str(CORPUS / case["path"]))
    assert _snapshot() == empty

    report = _ingest(case, skip_invalid=True)
    _assert_every_bad_row_reported(key, case, report.rejected)
    assert sorted(Entry.objects.values_list("source_id", flat=True)) == case["good"]
    assert report.loaded == len(case["good"])
    assert hull_differences() == []

    stored = _snapshot()  # a refused batch leaves a catalogue with entries as it was, too
    with pytest.raises(IngestFailed):
        _ingest(case, skip_invalid=False)
    assert _snapshot() == stored
