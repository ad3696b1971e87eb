"""Family screens (criteria, funnel counts, results; every criterion adjustable, bad values answered with a
message), prototypes with novel ones, and the read-only discovery dashboard."""

import re

import pytest
from django.utils import timezone

from discovery.models import Round, RoundStage, TrainedModel
from hull.models import Entry, EntryFeatures
from hull.services.features import features_compute

pytestmark = pytest.mark.django_db


def funnel(html: str) -> list[int]:
    block = re.search(r'<ol class="funnel" id="funnel">(.*?)</ol>', html, re.S).group(1)
    return [int(n) for n in re.findall(r'<strong class="count"[^>]*>(\d+)</strong>', block)]


def test_family_index_links_every_screen(client):
    html = client.get("/families/").content.decode()
    for path in ("layered", "li-conductors", "li-mn-oxides", "prototypes"):
        assert f'href="/families/{path}/"' in html


def test_layered_screen(client, catalogue):
    li2o = Entry.objects.get(source_id="mp-1960")
    EntryFeatures.objects.create(entry=li2o, dimensionality_cheon=2, dimensionality_larsen=3)
    html = client.get("/families/layered/").content.decode()
    counts = funnel(html)
    assert counts[:4] == [57, 57, 1, 1] and len(counts) == 5
    assert "dimensionality computed for 1 of 57 entries, results incomplete" in html
    assert "0.45 Å" in html and "Larsen" in html
    html = client.get("/families/layered/", {"max_e_above_hull": "1", "larsen_agrees": "1"}).content.decode()
    assert funnel(html)[-1] == 0 and "No entry passes every criterion" in html


def test_li_conductor_screen(client, catalogue):
    html = client.get("/families/li-conductors/").content.decode()
    counts = funnel(html)
    assert counts == sorted(counts, reverse=True) and len(counts) == 6
    assert "Sendek" in html and "Li fraction of atoms &gt; 0.2" in html
    stable_li = Entry.objects.filter(
        stabilities__hull_set="dft", stabilities__e_above_hull__lte=0.05, composition__has_key="Li"
    ).count()
    assert counts[1] == stable_li
    # Li2O: stable, Li-rich, no band gap stored: listed apart
    for e in Entry.objects.filter(source_id="mp-1960"):
        assert f'href="/materials/{e.public_id}/"' in html.split('id="gap-unknown"')[1]
    html = client.get(
        "/families/li-conductors/", {"max_e_above_hull": "0", "min_li_fraction": "0.9", "excluded_metals": ""}
    ).content.decode()
    assert funnel(html)[-1] == 0 and len(funnel(html)) == 5  # no excluded metals: that step is left out


def test_li_mn_oxide_screen(client, catalogue):
    html = client.get("/families/li-mn-oxides/").content.decode()
    assert funnel(html) == [0, 0, 0]  # no Mn in Li-O
    assert "one more transition metal" in html


BAD = [
    ("/families/layered/", {"max_e_above_hull": "-1"}, "must not be negative"),
    ("/families/layered/", {"larsen_agrees": "maybe"}, "use 1 or 0"),
    ("/families/layered/", {"hull_set": "nope"}, "unknown hull set"),
    ("/families/li-conductors/", {"excluded_metals": "Fe,Xx"}, "unknown element &#x27;Xx&#x27;"),
    ("/families/li-conductors/", {"excluded_metals": "Li"}, "lithium cannot be excluded"),
    ("/families/li-conductors/", {"min_li_fraction": "2"}, "between 0 and 1"),
    ("/families/li-conductors/", {"min_band_gap": "wide"}, "not a number"),
    ("/families/li-mn-oxides/", {"extra_metals": "Qq"}, "unknown element"),
    ("/families/li-mn-oxides/", {"max_e_above_hull": "x"}, "not a number"),
    ("/families/prototypes/", {"novel": "perhaps"}, "use 1 or 0"),
    ("/families/prototypes/", {"hull_set": "nope"}, "unknown hull set"),
]


@pytest.mark.parametrize(("url", "query", "message"), BAD)
def test_family_bad_input(client, catalogue, url, query, message):
    response = client.get(url, query)
    html = response.content.decode()
    assert response.status_code == 400
    assert message.replace("cannot be excluded", "cannot be an excluded metal") in html or message in html
    assert 'class="criteria"' in html


def test_prototypes_and_novel_ones(client, with_prototypes, tmp_path, mp_entry_dicts):
    html = client.get("/families/prototypes/").content.decode()
    stable = Entry.objects.filter(stabilities__hull_set="dft", stabilities__is_stable=True)
    assert funnel(html)[0] == stable.count()
    assert funnel(html)[3] == 0  # no discovery rounds: nothing is novel
    li2o = Entry.objects.get(source_id="mp-1960")
    assert li2o.features.prototype_key in html
    # A round that added the entries of one prototype makes it novel.
    keys = dict(stable.values_list("id", "features__prototype_key"))
    key = keys[li2o.pk]
    Round.objects.create(number=1, batch=li2o.batch, status="succeeded", finished_at=timezone.now())
    html = client.get("/families/prototypes/", {"novel": "1"}).content.decode()
    assert funnel(html)[3] == len(set(keys.values())) and key in html


def test_discovery_dashboard_empty(client):
    html = client.get("/discovery/").content.decode()
    assert 'id="no-rounds"' in html and 'id="no-scaling"' in html


def test_discovery_dashboard(client, discovery_round):
    first, second = discovery_round
    RoundStage.objects.create(round=second, name="evaluate", order=3, status="running", done=3, total=8)
    RoundStage.objects.create(round=second, name="generate", order=1, status="succeeded", done=10, total=10)
    TrainedModel.objects.create(
        name="gnome-s1",
        kind="structural",
        checkpoint_path="/tmp/x",
        metrics={
            "scaling": {
                "sizes": [100, 200, 400],
                "test_mae": [0.2, 0.14, 0.1],
                "fit": {"prefactor": 2.0, "exponent": -0.5, "r_squared": 0.99},
            }
        },
    )
    html = client.get("/discovery/").content.decode()
    assert 'id="round-1"' in html and 'id="round-2"' in html
    assert '<progress max="8" value="3"></progress> 3/8' in html
    assert "fig-metric-1" in html and "hit_rate" in html and "new_stable" in html
    assert "note</dt>" in html  # non-numeric metrics listed, not charted
    assert 'id="scaling-chart"' in html and "gnome-s1" in html


def test_features_service(catalogue):
    small = list(Entry.objects.filter(nsites__lte=4).values_list("id", flat=True))
    report = features_compute(entry_ids=small)
    assert report.computed == len(small)
    li2o = Entry.objects.get(source_id="mp-1960")
    features = EntryFeatures.objects.get(entry=li2o)
    assert features.dimensionality_larsen == 3
    assert features.dimensionality_cheon == 3 or "intercalated" in features.error
    assert features.prototype_key.startswith(f"{li2o.anonymous_formula}_225_")
    # Recomputing keeps the keys.
    before = dict(EntryFeatures.objects.values_list("entry_id", "prototype_key"))
    features_compute(entry_ids=small, dimensionality=False)
    assert dict(EntryFeatures.objects.values_list("entry_id", "prototype_key")) == before


def test_prototype_matches_across_elements(tmp_path, mp_entry_dicts, catalogue):
    """Antifluorite Li2O and Na2O share a prototype."""
    from hull.services.ingest import ingest_file
    from tests.catalogue_files import write_json
    from tests.conftest import subset

    items = [i for i in subset(mp_entry_dicts, {"Li", "Na", "O"}) if i["entry_id"] in ("mp-1960", "mp-2352")]
    if len(items) < 2:
        pytest.skip("mp-1960 and mp-2352 are not both in the shared entries")
    ingest_file(path=write_json(tmp_path / "pair.json.gz", items))
    pair = Entry.objects.filter(source_id__in=["mp-1960", "mp-2352"])
    features_compute(entry_ids=pair.values_list("id", flat=True), dimensionality=False)
    keys = set(EntryFeatures.objects.filter(entry__in=pair).values_list("prototype_key", flat=True))
    assert len(keys) == 1


def test_compute_features_command(catalogue):
    from django.core.management import call_command

    call_command("compute_features", "--skip-dimensionality")
    assert EntryFeatures.objects.count() == Entry.objects.filter(structure__isnull=False).count()
    call_command("compute_features", "--limit", "2")  # nothing missing: no-op


def test_features_task_assigns_prototypes_then_splits_the_slow_part(catalogue):
    from hull.tasks import FEATURES_CHUNK, features_compute_task

    ids = list(Entry.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) > FEATURES_CHUNK
    result = features_compute_task(ids)
    assert result["dimensionality_tasks"] == 2
    assert result["prototypes"]["computed"] == len(ids)
    assert not EntryFeatures.objects.filter(entry_id__in=ids, prototype_key="").exists()
    assert not EntryFeatures.objects.exclude(dimensionality_larsen=None).exists()  # queued, not run here
