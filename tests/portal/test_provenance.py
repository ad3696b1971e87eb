"""Evaluator provenance everywhere: a page walk over every page, API and OPTIMADE response that can show a
stability result; any response that shows the predicted (non-DFT) entry without naming its evaluator fails."""

import pytest
from django.utils import timezone
from pymatgen.core import Structure

from discovery.models import Round
from discovery.services import round_create
from hull.ingest.records import EntryRecord
from hull.models import Entry
from hull.provenance import stability_source
from hull.services.ingest import ingest_file, ingest_records

pytestmark = pytest.mark.django_db

EVALUATOR = "CHGNet 0.3.0"
LABEL = f"predicted by {EVALUATOR}"


@pytest.fixture
def predicted(li_o_file, li_o_entries) -> Entry:
    """The real Li-O catalogue and one CHGNet result, stable in the ``all`` hull set (below DFT Li2O)."""
    ingest_file(path=li_o_file)
    round_ = round_create(
        config={"elements": ["Li", "O"]}, enqueue=False
    )  # it finished before the entry came
    Round.objects.filter(pk=round_.pk).update(status="succeeded", finished_at=timezone.now())
    li2o = min(
        (e for e in Entry.objects.filter(reduced_formula="Li2O", method_family="dft")),
        key=lambda e: e.energy_per_atom,
    )
    structure = Structure.from_dict(li2o.structure)
    energy = (li2o.energy_per_atom - 0.1) * len(structure)
    record = EntryRecord(
        location="test",
        source_id="predicted-li2o",
        composition=structure.composition,
        structure=structure,
        energy=energy,
        uncorrected_energy=energy,
        correction=0.0,
        method=EVALUATOR,
        method_family="ml",
    )
    ingest_records(rows=[record], source="discovery", fmt="discovery", label="test", skip_invalid=False)
    entry = Entry.objects.get(source_id="predicted-li2o")
    assert entry.stabilities.get(hull_set="all").is_stable
    Round.objects.filter(pk=round_.pk).update(
        metrics={"evaluator": EVALUATOR, "hit_rate": 0.5, "failed": 1, "unconverged": 0}
    )
    return entry


def test_the_label_is_defined_once():
    assert stability_source(method="PBE", method_family="dft") == "DFT"
    assert stability_source(method=EVALUATOR, method_family="ml") == LABEL


def test_every_response_that_shows_a_predicted_entry_names_its_evaluator(client, predicted):
    pid = predicted.public_id
    urls = [
        "/?hull_set=all",
        "/search/?hull_set=all&is_stable=true",
        "/search/?formula=Li2O&hull_set=all&cols=formula,public_id,is_stable,method",
        f"/materials/{pid}/",
        "/phase-diagram/?chemsys=Li-O&hull_set=all",
        "/phase-diagram/?chemsys=Li-O&hull_set=all&round=1",
        "/families/",
        "/families/layered/?hull_set=all",
        "/families/li-conductors/?hull_set=all",
        "/families/prototypes/?hull_set=all",
        "/discovery/",
        "/api/v1/materials/?hull_set=all&is_stable=true",
        f"/api/v1/materials/{pid}/",
        "/api/v1/phase-diagrams/Li-O/?hull_set=all",
        "/optimade/v1/structures?filter=nelements=2",
        f"/optimade/v1/structures/{pid}",
    ]
    showing = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.content.decode()
        if pid in text or "Li2O" in text and "predicted" in text:
            showing.append(url)
            assert LABEL in text, f"{url} shows the predicted entry {pid} without naming its evaluator"
    # the walk is not vacuous: the pages that must show the entry did
    for url in ("/search/?hull_set=all&is_stable=true", f"/materials/{pid}/", f"/api/v1/materials/{pid}/"):
        assert url in showing
    home = client.get("/?hull_set=all").content.decode()
    assert "DFT-stable" in home and LABEL in home  # counts apart
    assert LABEL in client.get("/discovery/").content.decode()  # round metrics carry the evaluator
    diagram = client.get("/phase-diagram/?chemsys=Li-O&hull_set=all&round=1").content.decode()
    assert f"new stable phase since round 1 ({LABEL})" in diagram or f"since round 1 ({LABEL})" in diagram


def test_dft_entries_are_labelled_dft(client, predicted):
    li2o = Entry.objects.filter(reduced_formula="Li2O", method_family="dft").first()
    assert client.get(f"/api/v1/materials/{li2o.public_id}/").json()["stability_source"] == "DFT"
    item = client.get(f"/optimade/v1/structures/{predicted.public_id}").json()["data"]
    assert any(k.endswith("_stability_source") and v == LABEL for k, v in item["attributes"].items())
