"""The Python client against a live server (pytest-django's live_server, a real HTTP server in a thread): it
refuses search keywords it does not know before sending anything, reads the mp-api names users type where the
catalogue has the field, and waits and retries when the portal throttles it (a low rate set for the test)."""

import time

import pytest

from hull.models import Entry
from portal.api.filters import EntryFilterSet
from portal_client import PortalError, PortalRester
from portal_client.rester import MP_API_RANGES, MP_API_SAME, MP_API_WITHOUT_FIELD, PORTAL_FILTERS
from tests.api.conftest import ingest_items
from tests.conftest import subset

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_client_refuses_unknown_keywords_and_reads_mp_api_names(live_server, tmp_path, mp_entry_dicts):
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "Fe", "O"}))
    rester = PortalRester(live_server.url, page_size=100)

    def ids(rows) -> list[str]:
        return [row["public_id"] for row in rows]

    for keyword, portal in [
        ({"num_elements": 2}, {"nelements_min": 2, "nelements_max": 2}),
        ({"num_elements": (3, None)}, {"nelements_min": 3}),
        ({"num_sites": (1, 4)}, {"nsites_min": 1, "nsites_max": 4}),
        ({"energy_above_hull": (0, 0.05)}, {"e_above_hull_min": 0, "e_above_hull_max": 0.05}),
        ({"formation_energy": (None, -2)}, {"formation_energy_max": -2}),
        ({"band_gap": (0.5, 3)}, {"band_gap_min": 0.5, "band_gap_max": 3}),
        ({"is_stable": True, "elements": ["Li", "O"]}, {"is_stable": "true", "elements": "Li,O"}),
    ]:
        got = ids(rester.search_docs(**keyword))
        assert got == ids(rester.search_docs(**portal)), keyword
        assert got or "band_gap" in keyword, keyword  # MP's entries here carry no band gap
    assert {r["nelements"] for r in rester.search_docs(num_elements=2)} == {2}

    entries = Entry.objects.order_by("id")
    first, second = entries[0], entries[1]
    found = rester.search_docs(material_ids=[first.public_id, second.source_id])
    assert ids(found) == [first.public_id, second.public_id]
    either = rester.search_docs(chemsys=["Li-O", "Fe-O", "Li-O"])
    assert ids(either) == ids(rester.search_docs(chemsys="Li-O")) + ids(rester.search_docs(chemsys="Fe-O"))
    assert {r["reduced_formula"] for r in rester.search_docs(formula=["Li2O", "Fe2O3"])} == {"Li2O", "Fe2O3"}
    assert [e.entry_id for e in rester.search(num_elements=1, num_entries=3)] == ids(
        rester.search_docs(nelements_max=1, num_entries=3)
    )
    exported = list(rester.export(num_elements=2, chemsys=["Li-O", "Fe-O"]))
    assert ids(exported) == ids(rester.search_docs(num_elements=2, chemsys=["Li-O", "Fe-O"]))

    with pytest.raises(TypeError, match=r"'is_stabel' \(did you mean 'is_stable'\?\)"):
        rester.search_docs(is_stabel=True)
    with pytest.raises(TypeError, match="'is_metal': the portal's catalogue has no such field") as refused:
        rester.search(is_metal=True, theoretical=False)
    assert "'theoretical'" in str(refused.value)
    with pytest.raises(TypeError, match="'num_elements' takes"):
        rester.search_docs(num_elements="two")
    with pytest.raises(TypeError, match="unknown search keyword 'limit'"):
        rester.export(limit=3)
    with pytest.raises(PortalError, match="did you mean 'is_stable'") as server:  # the portal refuses it too
        rester._get("materials/", {"is_stabel": "true"})
    assert server.value.status == 400


def test_client_waits_and_retries_when_throttled(live_server, tmp_path, mp_entry_dicts, settings):
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "O"}))
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "4/s"},
    }
    rester = PortalRester(live_server.url, page_size=5)
    seen: list[tuple[int, str | None]] = []
    rester.session.hooks["response"].append(
        lambda response, **kwargs: seen.append((response.status_code, response.headers.get("Retry-After")))
    )
    started = time.monotonic()
    rows = rester.search_docs(elements=["Li"])
    waited = time.monotonic() - started
    assert len(rows) == Entry.objects.filter(chemsys__in=["Li", "Li-O"]).count() > 20  # every page, once
    assert len({row["public_id"] for row in rows}) == len(rows)
    refused = [after for status, after in seen if status == 429]
    assert refused and all(after and int(after) >= 1 for after in refused), seen
    assert waited >= sum(int(after) for after in refused)  # it waited as long as each refusal asked

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1/min"},
    }
    patient = PortalRester(live_server.url, max_retries=3, max_wait=5)
    patient._get("materials/")  # the one request of this minute (a new rate: new counters)
    started = time.monotonic()
    with pytest.raises(PortalError) as throttled:  # it would have to wait a minute: refused at once
        patient._get("materials/")
    assert throttled.value.status == 429 and time.monotonic() - started < 5
    hasty = PortalRester(live_server.url, max_retries=0)
    with pytest.raises(PortalError) as throttled:
        hasty._get("materials/")
    assert throttled.value.status == 429


def test_the_clients_filter_names_are_the_portals():
    """The client imports nothing from the server: its list of the portal's filters is checked here."""
    assert set(EntryFilterSet.base_filters) - {"hull_set"} == PORTAL_FILTERS
    assert not (set(MP_API_RANGES) | set(MP_API_SAME)) & MP_API_WITHOUT_FIELD
