"""Against a live server (pytest-django's live_server): the Python client, the official OPTIMADE validator,
pymatgen's OptimadeRester and schemathesis over the OpenAPI schema, each as a real HTTP client. The OPTIMADE
clients run unpaced against the rate limits a deployment gets when it sets none (the API tests' conftest opens
them wide)."""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.cache import cache
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.entries.computed_entries import ComputedStructureEntry
from pymatgen.ext.optimade import OptimadeRester

from hull.models import Entry, Stability
from portal_client import PortalError, PortalRester
from tests.api.conftest import ingest_items
from tests.conftest import subset

BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_client_reproduces_the_catalogue(live_server, tmp_path, mp_entry_dicts):
    items = subset(mp_entry_dicts, {"Li", "Fe", "O"})
    ingest_items(tmp_path, items)
    rester = PortalRester(live_server.url, page_size=25)

    # search pages through cursors and returns pymatgen entries with structures and corrected energies
    entries = rester.search(elements=["Li", "O"], energy_above_hull=(0, 0.05))
    expected = Stability.objects.filter(
        hull_set="dft", e_above_hull__lte=0.05, entry__chemsys__in=["Li-O", "Fe-Li-O"]
    ).count()
    assert len(entries) == expected > 25
    assert all(isinstance(e, ComputedStructureEntry) for e in entries)
    stored = Entry.objects.get(public_id=entries[0].entry_id)
    assert entries[0].energy == pytest.approx(stored.energy)
    assert entries[0].structure.composition.reduced_formula == stored.reduced_formula
    assert len(rester.search(chemsys="Fe-O", num_entries=3)) == 3

    # the client's pymatgen PhaseDiagram reproduces the catalogue's stability of every entry
    diagram = rester.get_phase_diagram("Fe-Li-O")
    assert isinstance(diagram, PhaseDiagram) and len(diagram.all_entries) == len(items)
    stability = {
        s.entry.public_id: s for s in Stability.objects.filter(hull_set="dft").select_related("entry")
    }
    assert {e.attribute for e in diagram.stable_entries} == {k for k, s in stability.items() if s.is_stable}
    for entry in diagram.all_entries:
        assert diagram.get_e_above_hull(entry) == pytest.approx(
            stability[entry.attribute].e_above_hull, abs=1e-6
        )

    structure = rester.get_structure(stored.public_id)
    assert structure.num_sites == stored.nsites
    assert "data_" in rester.get_structure_file(stored.public_id, "cif")
    exported = list(rester.export(elements="Li,O", compress=True))
    assert len(exported) == Entry.objects.filter(chemsys__in=["Li-O", "Fe-Li-O"]).count()
    check = rester.check_stability("LiFeO2", -7.0)
    assert check["chemsys"] == "Fe-Li-O" and check["e_above_hull"] >= 0
    with pytest.raises(PortalError, match="unknown element"):
        rester.search(elements=["Xx"])
    with pytest.raises(PortalError) as refused:
        rester.launch_round({"elements": ["Li"]})
    assert refused.value.status == 401


def run(command: list[str], timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def default_rates(settings) -> dict[str, str]:
    """The rate limits of a deployment that sets none (the defaults in the settings, whatever the environment)."""
    rates = {scope: rate for scope, (_, rate) in settings.THROTTLE_RATE_DEFAULTS.items()}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    return rates


def requests_counted(scope: str, ident: str = "127.0.0.1") -> int:
    """The requests from ``ident`` that the ``scope`` throttle holds counted (its counters live two windows)."""
    window = int(time.time() // 60)
    return sum(
        cache.get_many([f"throttle_{scope}_{ident}:{w}" for w in range(window - 2, window + 1)]).values()
    )


def test_optimade_validator_passes_unpaced_with_optional_checks(
    live_server, tmp_path, mp_entry_dicts, default_rates
):
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "O"}))
    for base, kind in (
        (f"{live_server.url}/optimade/v1", []),
        (f"{live_server.url}/optimade", []),  # the unversioned base URL serves the same API
        (f"{live_server.url}/optimade/index/v1", ["--index"]),
    ):
        out = run([str(BIN / "optimade-validator"), *kind, base], timeout=300)
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + out.stderr)
        assert out.returncode == 0, text[-4000:]
        passed, total = map(int, re.search(r"Passed (\d+) out of (\d+) tests", text).groups())
        optional = re.search(r"Additionally passed (\d+) out of (\d+) optional tests", text)
        assert passed == total > 0, text[-4000:]
        assert optional and optional.group(1) == optional.group(2), text[-4000:]
    # more requests than the REST API lets an address make in a minute: OPTIMADE's own limit carried them
    assert requests_counted("optimade") > int(default_rates["anon"].split("/")[0])


def test_pymatgen_optimade_rester_gets_every_structure_of_large_queries_unpaced(
    live_server, tmp_path, mp_entry_dicts, default_rates
):
    """A script asking pymatgen's client for the structures holding each of five element sets of Li-Mn-O (400+
    structures each), one query after another: the client follows ``next`` links as fast as it can, and a refused
    page ends its loop with {} (it logs the error and drops what it had)."""
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "Mn", "O"}))
    rows = Entry.objects.filter(structure__isnull=False).values_list(
        "public_id", "chemsys", "reduced_formula"
    )
    base = f"{live_server.url}/optimade/"
    rester = OptimadeRester(base, timeout=30)  # a long timeout for a loaded CI machine; no pacing
    for elements in (["Li", "Mn", "O"], ["Li", "O"], ["Mn", "O"], ["Mn"], ["O"]):
        expected = {
            key: formula for key, chemsys, formula in rows if set(elements) <= set(chemsys.split("-"))
        }
        assert len(expected) > 400
        structures = rester.get_structures(elements=elements).get(base, {})
        assert len(structures) == len(expected), elements
        assert {key: s.composition.reduced_formula for key, s in structures.items()} == expected
    assert requests_counted("optimade") > int(default_rates["anon"].split("/")[0])


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_server, tmp_path, mp_entry_dicts):
    ingest_items(tmp_path, subset(mp_entry_dicts, {"Li", "O"}))
    out = run(
        [
            str(BIN / "st"),
            "run",
            f"{live_server.url}/api/schema/",
            "--checks",
            "not_a_server_error,response_schema_conformance",
            "--max-examples",
            "8",
            "--phases",
            "examples,coverage,fuzzing",
            "--seed",
            "20261122",
            "--generation-database",
            ":memory:",
            "--no-color",
        ],
        timeout=300,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-6000:]
