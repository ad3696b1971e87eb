"""The GNoME release's pseudopotential shift of Materials Project energies (``hull.gnome_release``): MP entries
containing Ga, Ge, Li, Mg or Na are shifted (eV per atom of each) while GNoME's own GGA/GGA+U entries share a
hull set with them, so that both sit on GNoME's pseudopotentials. The shift is part of the entry's correction
(``energy = uncorrected_energy + correction``), named among its energy adjustments, and given per element in
``data["pseudopotential_shift"]`` (eV per cell). ``PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT`` switches it; the next
ingest (or ``manage.py pseudopotential_shift``) brings the stored entries in line with the setting."""

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from hull.gnome_release import PSEUDOPOTENTIAL_SHIFT, SHIFT_ADJUSTMENT, is_mp_id, pseudopotential_shift
from hull.hull_sets import DFT
from hull.ingest.prepare import content_hash
from hull.ingest.records import EntryRecord
from hull.models import Entry
from hull.services.chemsys import chunked

GNOME_RELEASE = "gnome"
"""``data["release"]`` of the GNoME release's own entries (its stable materials and their r2SCAN energies)."""


def gnome_entries_present() -> bool:
    """Whether the catalogue holds GNoME's own GGA/GGA+U entries (which share the ``dft`` and ``all`` hull sets
    with MP's)."""
    return Entry.objects.filter(method_family=DFT, data__release=GNOME_RELEASE).exists()


def shift_wanted() -> bool:
    """Whether MP entries are to be shifted now: the setting is on and GNoME entries share their hull sets."""
    return settings.PORTAL_GNOME_PSEUDOPOTENTIAL_SHIFT and gnome_entries_present()


def shifted_values(
    *, composition: dict, energy: float, correction: float, data: dict, wanted: bool
) -> tuple[float, float, dict] | None:
    """An MP entry's (energy, correction, data) with the shift as ``wanted`` (applied or not), or None where they
    are so already."""
    want = pseudopotential_shift(composition) if wanted else {}
    have = data.get("pseudopotential_shift", {})
    if want == have:
        return None
    delta = sum(want.values()) - sum(have.values())
    adjustments = [name for name in data.get("energy_adjustments", []) if name != SHIFT_ADJUSTMENT]
    data = {
        key: value
        for key, value in data.items()
        if key not in ("pseudopotential_shift", "energy_adjustments")
    }
    if want:
        data["pseudopotential_shift"] = want
        adjustments.append(SHIFT_ADJUSTMENT)
    if adjustments:
        data["energy_adjustments"] = adjustments
    return energy + delta, correction + delta, data


def shift_record(record: EntryRecord, *, wanted: bool) -> EntryRecord:
    """An incoming row, shifted where it is an MP entry of the ``dft`` family holding a shifted element."""
    if record.method_family != DFT or not is_mp_id(record.source_id):
        return record
    amounts = {el.symbol: float(amount) for el, amount in record.composition.items() if hasattr(el, "symbol")}
    values = shifted_values(
        composition=amounts,
        energy=record.energy,
        correction=record.correction,
        data=record.data,
        wanted=wanted,
    )
    if values is not None:
        record.energy, record.correction, record.data = values
    return record


def pseudopotential_shift_sync(*, wanted: bool) -> set[str]:
    """Bring every stored MP entry holding a shifted element in line with ``wanted``; the chemical systems of the
    entries it changed (for the hull update, which the caller runs in the same transaction)."""
    is_mp = Q(source_id__startswith="mp-") | Q(source_id__startswith="mvc-")
    candidates = (
        Entry.objects.filter(
            is_mp, method_family=DFT, chemsys__element_rows__symbol__in=sorted(PSEUDOPOTENTIAL_SHIFT)
        )
        .values_list("id", "source_id", "composition", "data")
        .distinct()
    )
    stale = [
        pk
        for pk, source_id, composition, data in candidates.iterator(chunk_size=2000)
        if is_mp_id(source_id)
        and (pseudopotential_shift(composition) if wanted else {}) != data.get("pseudopotential_shift", {})
    ]
    touched: set[str] = set()
    now = timezone.now()
    for chunk in chunked(stale, size=500):
        changed = []
        for entry in Entry.objects.filter(pk__in=chunk):
            values = shifted_values(
                composition=entry.composition,
                energy=entry.energy,
                correction=entry.correction,
                data=entry.data,
                wanted=wanted,
            )
            if values is None:
                continue
            entry.energy, entry.correction, entry.data = values
            entry.energy_per_atom = entry.energy / sum(entry.composition.values())
            entry.updated_at = now
            entry.content_hash = content_hash(
                {
                    name: getattr(entry, name)
                    for name in (
                        "structure",
                        "composition",
                        "energy",
                        "uncorrected_energy",
                        "method",
                        "band_gap",
                        "data",
                    )
                }
            )
            changed.append(entry)
            touched.add(entry.chemsys_id)
        Entry.objects.bulk_update(
            changed, fields=["energy", "correction", "energy_per_atom", "data", "content_hash", "updated_at"]
        )
    return touched
