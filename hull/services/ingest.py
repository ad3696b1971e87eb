"""The ingest service: read a file, check every row, store the good ones in one transaction and bring the
stability of the touched chemical systems up to date."""

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hull.enqueue import features_compute_enqueue
from hull.errors import CatalogueError
from hull.gc_pause import gc_paused
from hull.gnome_release import EXTERNAL, MP_SNAPSHOT, R2SCAN_FILE, STABLE, csv_kind
from hull.hull_sets import METHOD_FAMILIES
from hull.ingest import readers
from hull.ingest.checks import Limits, text_problem
from hull.ingest.prepare import PreparedEntry, check_and_prepare, public_id_for
from hull.ingest.records import EntryRecord, FileProblem, RowProblem, StructureRecord
from hull.models import Entry, IngestBatch
from hull.services import pseudopotential
from hull.services.bulk import bulk_upsert
from hull.services.chemsys import chemsys_ensure, chunked
from hull.services.parallel import forked_map, workers_for
from hull.services.stability import HullUpdateSummary, hull_update
from hull.services.structures import structures_resolve

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

UPDATABLE_FIELDS = (
    "method",
    "method_family",
    "formula",
    "reduced_formula",
    "anonymous_formula",
    "chemsys",
    "nelements",
    "nsites",
    "composition",
    "structure",
    "volume",
    "density",
    "spacegroup_symbol",
    "spacegroup_number",
    "crystal_system",
    "symprec",
    "energy",
    "uncorrected_energy",
    "correction",
    "energy_per_atom",
    "band_gap",
    "data",
    "content_hash",
    "batch",
    "updated_at",
)


@dataclass
class IngestReport:
    path: str
    fmt: str
    source: str
    loaded: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: list[RowProblem] = field(default_factory=list)
    batch_id: int | None = None
    hull: HullUpdateSummary | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.path} ({self.fmt}, source {self.source!r}): loaded {self.loaded}, updated {self.updated}, "
            f"skipped {self.skipped}, rejected {len(self.rejected)} in {self.seconds:.1f} s"
        )

    def as_dict(self) -> dict:
        return {
            "path": self.path,
            "format": self.fmt,
            "source": self.source,
            "loaded": self.loaded,
            "updated": self.updated,
            "skipped": self.skipped,
            "rejected": [{"location": p.location, "reason": p.message} for p in self.rejected],
            "hull": str(self.hull) if self.hull else None,
            "seconds": round(self.seconds, 3),
        }


def ingest_limits() -> Limits:
    """What one row may hold, from the settings (``PORTAL_MAX_ELEMENTS``, ``PORTAL_MAX_SITES``,
    ``PORTAL_MAX_AMOUNT``, ``PORTAL_MIN_SITE_DISTANCE``) and the lengths of the ``Entry`` text columns."""
    return Limits(
        max_elements=settings.PORTAL_MAX_ELEMENTS,
        max_sites=settings.PORTAL_MAX_SITES,
        max_amount=settings.PORTAL_MAX_AMOUNT,
        min_site_distance=settings.PORTAL_MIN_SITE_DISTANCE,
        text_lengths={name: Entry._meta.get_field(name).max_length for name in ("source_id", "method")},
    )


class IngestFailed(CatalogueError):
    """The batch was refused and nothing was written; ``report`` lists every rejected row."""

    def __init__(self, message: str, report: IngestReport) -> None:
        super().__init__(message)
        self.report = report


def ingest_file(
    *,
    path: str | Path,
    fmt: str = "auto",
    source: str | None = None,
    skip_invalid: bool = False,
    method: str | None = None,
    method_family: str | None = None,
    energies: str | Path | None = None,
    structures: str | Path | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest one file (or folder) as one batch. Idempotent by (source, source id): a row already stored with
    the same content is skipped, one with new content updated.

    Any bad row fails the whole batch and writes nothing, unless ``skip_invalid``, in which case the good rows
    are stored and the bad ones reported. Rows stream through in chunks of ``CHUNK_ROWS`` (memory stays
    constant whatever the file's length); ``progress(rows_read, message)`` is called after each chunk.
    """
    with gc_paused():
        return _ingest_file(
            path, fmt, source, skip_invalid, method, method_family, energies, structures, progress
        )


def _ingest_file(
    path, fmt, source, skip_invalid, method, method_family, energies, structures, progress
) -> IngestReport:
    started = time.perf_counter()
    path = Path(path)
    if not path.exists():
        raise CatalogueError(f"{path}: no such file or folder")
    if method_family is not None and method_family not in METHOD_FAMILIES:
        raise CatalogueError(
            f"unknown method family {method_family!r}: choose one of {', '.join(METHOD_FAMILIES)}"
        )
    _check_source(source)
    try:
        fmt = readers.detect_format(path) if fmt == "auto" else fmt
        if fmt not in readers.FORMATS:
            raise CatalogueError(f"unknown format {fmt!r}: choose one of {', '.join(readers.FORMATS)}")
        rows = readers.read(
            path,
            fmt,
            method=method,
            method_family=method_family,
            energies=Path(energies) if energies else None,
            structures=Path(structures) if structures else None,
            limits=ingest_limits(),
        )
        if fmt == "cse-json":  # read whole by the reader anyway; its ids tell the default source
            rows = list(rows)
    except FileProblem as exc:
        raise CatalogueError(f"{exc.path}: {exc.message}") from exc
    if method or method_family:
        rows = (_relabelled(row, method, method_family) for row in rows)
    return ingest_records(
        rows=rows,
        source=source or _default_source(path, fmt, rows),
        fmt=fmt,
        label=str(path),
        skip_invalid=skip_invalid,
        started=started,
        progress=progress,
    )


def _relabelled(row, method: str | None, method_family: str | None):
    if isinstance(row, EntryRecord):
        row.method = method or row.method
        row.method_family = method_family or row.method_family
    return row


def ingest_records(
    *,
    rows: Iterable[EntryRecord | StructureRecord | RowProblem],
    source: str,
    fmt: str,
    label: str,
    skip_invalid: bool = False,
    started: float | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Check, store and hull-update records (from a reader, streamed, or from a discovery round).

    One transaction: a failure anywhere leaves the catalogue as it was.
    """
    with gc_paused():
        return _ingest_records(rows, source, fmt, label, skip_invalid, started, progress)


def _check_source(source: str | None) -> None:
    """A source name given by the caller must fit the ``source`` columns."""
    if source is None:
        return
    max_length = min(
        Entry._meta.get_field("source").max_length, IngestBatch._meta.get_field("source").max_length
    )
    problem = text_problem("source", source, max_length)
    if problem:
        raise CatalogueError(problem)


CHUNK_ROWS = 20_000
"""Rows read, checked, prepared and stored at a time: an ingest's memory is bounded by one chunk."""


def _ingest_records(rows, source, fmt, label, skip_invalid, started, progress) -> IngestReport:
    started = time.perf_counter() if started is None else started
    _check_source(source)
    report = IngestReport(path=label, fmt=fmt, source=source)
    seen: dict[str, str] = {}
    touched: set[str] = set()
    changed: set[int] = set()
    with transaction.atomic():
        batch = IngestBatch.objects.create(source=source, fmt=fmt, path=label[:1024])
        _serialize_ingests()
        shift = pseudopotential.shift_wanted()
        read = 0
        try:
            for chunk in _chunks(rows, CHUNK_ROWS):
                read += len(chunk)
                chunk = structures_resolve(rows=chunk, source=source)
                chunk = [_shifted(row, shift) for row in chunk]
                prepared = _check_and_prepare(chunk, report, seen)
                if not report.rejected or skip_invalid:  # after a bad row only checked, to list every bad one
                    chunk_touched, chunk_changed = _store(prepared, source, batch, report)
                    touched |= chunk_touched
                    changed |= chunk_changed
                if progress is not None:
                    progress(read, f"{read:,} rows read, {len(report.rejected):,} rejected")
        except FileProblem as exc:
            raise CatalogueError(f"{exc.path}: {exc.message}") from exc
        if report.rejected and not skip_invalid:
            report.seconds = time.perf_counter() - started
            raise IngestFailed(
                f"{label}: {len(report.rejected)} invalid row(s); nothing was written "
                f"(use --skip-invalid to store the good rows). First: {report.rejected[0]}",
                report,
            )
        touched |= pseudopotential.pseudopotential_shift_sync(wanted=pseudopotential.shift_wanted())
        added = [pk for pk in batch.entries.values_list("id", flat=True) if pk not in changed]
        if progress is not None:
            progress(read, "updating the hulls")
        report.hull = hull_update(touched=touched, added=added) if touched or added else None
        report.batch_id = batch.pk
        report.seconds = time.perf_counter() - started
        batch.status = IngestBatch.Status.SUCCEEDED
        batch.n_loaded, batch.n_updated, batch.n_skipped = report.loaded, report.updated, report.skipped
        batch.n_rejected = len(report.rejected)
        batch.report = report.as_dict()
        batch.finished_at = timezone.now()
        batch.save()
        new_structures = list(batch.entries.filter(structure__isnull=False).values_list("id", flat=True))
        if new_structures:
            transaction.on_commit(lambda: _enqueue_features(new_structures))
    return report


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk: list = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _shifted(row, shift: bool):
    return pseudopotential.shift_record(row, wanted=shift) if isinstance(row, EntryRecord) else row


INGEST_LOCK_KEY = 0x1D6E57
"""PostgreSQL advisory lock that ingest transactions hold from before they look up existing rows to commit."""


def _serialize_ingests() -> None:
    """Make concurrent ingests take turns, so that two processes storing the same rows never both insert them
    (a raw unique violation): the second one waits, then finds the first one's rows and skips or updates them.
    On PostgreSQL a transaction-scoped advisory lock; on SQLite the batch row written just before already holds
    the database's single write lock until commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INGEST_LOCK_KEY])


def _enqueue_features(entry_ids: list[int]) -> None:
    """Structure-derived properties (dimensionality, prototype) are computed in the background."""
    try:
        features_compute_enqueue(entry_ids)
    except Exception:  # the catalogue is written; a missing broker only delays the family screens
        logger.warning("could not enqueue feature computation for %d entries", len(entry_ids), exc_info=True)


GNOME_SOURCES = {
    STABLE: "gnome",
    R2SCAN_FILE: "gnome-r2scan",
    EXTERNAL: "gnome-external",
    MP_SNAPSHOT: "gnome-mp",
}
"""Default sources of the release's CSVs: the r2SCAN rows share their MaterialIds with the GGA rows, so each CSV
is a source of its own; ``gnome-structures`` archives attach to ``gnome``."""


def _default_source(path: Path, fmt: str, rows) -> str:
    if fmt == "cse-json":
        ids = [row.source_id for row in rows if isinstance(row, EntryRecord)]
        if ids and all(i.startswith(("mp-", "mvc-")) for i in ids):
            return "mp"
    if fmt == "wbm-json":
        return "wbm"
    if fmt == "gnome-csv":
        name = path.name if path.is_file() else next(iter(sorted(path.glob("*.csv"))), path).name
        return GNOME_SOURCES[csv_kind(name)]
    if fmt == "gnome-structures":
        return "gnome"
    stem = path.name.split(".")[0][: Entry._meta.get_field("source").max_length]
    return stem or "user"


PARALLEL_MIN_ROWS = 20_000
"""Batches with fewer rows are checked and prepared in the calling process."""


def _check_and_prepare(rows: list, report: IngestReport, seen: dict[str, str]) -> list[PreparedEntry]:
    """Check every row and prepare the good ones, in file order; repeated ids (``seen`` in earlier chunks or this
    one) are rejected after the first."""
    prepared: list[PreparedEntry] = []
    for row, outcome in zip(rows, _checked(rows), strict=True):
        if isinstance(outcome, RowProblem):
            report.rejected.append(outcome)
        elif row.source_id in seen:
            report.rejected.append(
                RowProblem(row.location, f"duplicate id {row.source_id!r} (first at {seen[row.source_id]})")
            )
        else:
            seen[row.source_id] = row.location
            prepared.append(outcome)
    return prepared


def _checked(rows: list) -> list[PreparedEntry | RowProblem]:
    """``_check_one`` of every row, in order; large batches in forked workers that inherit the rows."""
    check = partial(_check_one, limits=ingest_limits(), symprec=settings.PORTAL_SYMPREC)
    return forked_map(check, rows, workers_for(len(rows), PARALLEL_MIN_ROWS, setting="PORTAL_INGEST_WORKERS"))


def _check_one(row, limits: Limits, symprec: float) -> PreparedEntry | RowProblem:
    return check_and_prepare(row, limits=limits, symprec=symprec)


def _store(
    prepared: list[PreparedEntry], source: str, batch: IngestBatch, report: IngestReport
) -> tuple[set[str], set[int]]:
    """Create new entries, update changed ones, skip identical ones. Returns the chemical systems of changed
    entries (old and new) and the ids of the changed entries (the batch's other entries are new)."""
    existing: dict[str, tuple[int, str, str]] = {}
    ids = [p.source_id for p in prepared]
    for chunk in chunked(ids):
        for pk, source_id, content_hash, chemsys in Entry.objects.filter(
            source=source, source_id__in=chunk
        ).values_list("id", "source_id", "content_hash", "chemsys_id"):
            existing[source_id] = (pk, content_hash, chemsys)
    chemsys_ensure(names={p.chemsys for p in prepared})
    touched: set[str] = set()
    new, changed = [], []
    now = timezone.now()
    prefix = settings.PORTAL_ID_PREFIX
    for item in prepared:
        known = existing.get(item.source_id)
        if known is not None and known[1] == item.content_hash:
            report.skipped += 1
            continue
        values = {
            "source": source,
            "source_id": item.source_id,
            "public_id": public_id_for(prefix, source, item.source_id),
            "content_hash": item.content_hash,
            **item.fields,
        }
        if known is None:
            new.append(
                {**values, "chemsys": item.chemsys, "batch": batch.pk, "created_at": now, "updated_at": now}
            )
        else:
            entry = Entry(chemsys_id=item.chemsys, batch=batch, **values)
            entry.pk = known[0]
            entry.updated_at = now
            touched.update((known[2], item.chemsys))
            changed.append(entry)
    if new:
        fields = list(new[0])
        bulk_upsert(model=Entry, fields=fields, rows=[[row[f] for f in fields] for row in new])
    Entry.objects.bulk_update(changed, fields=list(UPDATABLE_FIELDS), batch_size=500)
    report.loaded += len(new)
    report.updated += len(changed)
    return touched, {entry.pk for entry in changed}
