"""The search page in headless Chromium as a scientist types into it: ``p63/mmc`` in the space-group box and
``abo3`` in the anonymous-formula box find the right entries of the real K-Cl-O catalogue (each row checked with
pymatgen), the page says how it read them, and its CSV export holds the same entries. Fails on console errors,
assets from another host and inputs without a label."""

import pytest
from pymatgen.core import Composition
from pymatgen.symmetry.groups import SpaceGroup

from hull.models import Entry
from hull.services.ingest import ingest_file
from tests.catalogue_files import write_json
from tests.conftest import subset
from tests.portal.pages.browsing import click_and_wait, no_console_errors, shot, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UNLABELLED_JS = """
return Array.prototype.filter.call(document.querySelectorAll('input, select, textarea'), function (field) {
  return field.type !== 'hidden' && field.labels.length === 0 && !field.getAttribute('aria-label');
}).map(function (field) { return field.name || field.id; });
"""
REMOTE_JS = """
var here = window.location.origin;
var urls = performance.getEntriesByType('resource').map(function (r) { return r.name; });
Array.prototype.forEach.call(document.querySelectorAll('script[src], link[href], img[src]'), function (el) {
  urls.push(el.src || el.href);
});
return urls.filter(function (url) { return url.indexOf(here) !== 0 && url.indexOf('data:') !== 0; });
"""
COLUMN_JS = """
var name = arguments[0];
var headings = Array.prototype.map.call(document.querySelectorAll('#results thead th'), function (th) {
  return th.textContent.trim();
});
var column = headings.findIndex(function (h) { return h.indexOf(name) === 0; });
return Array.prototype.map.call(document.querySelectorAll('#results tbody tr'), function (row) {
  return row.cells[column].textContent.trim();
});
"""
FETCH_JS = """
var done = arguments[arguments.length - 1];
fetch(arguments[0]).then(function (r) { return r.text(); }).then(done, function (e) { done('failed: ' + e); });
"""


@pytest.fixture
def k_cl_o_live(tmp_path, mp_entry_dicts):
    return ingest_file(path=write_json(tmp_path / "k_cl_o.json.gz", subset(mp_entry_dicts, {"K", "Cl", "O"})))


def is_abo3_oxide(formula: str) -> bool:
    composition = Composition(formula).reduced_composition
    return sorted(composition.get_el_amt_dict().values()) == [1, 1, 3] and composition["O"] == 3


def check_page(driver, where: str) -> None:
    no_console_errors(driver, where)
    assert driver.execute_script(UNLABELLED_JS) == [], f"inputs without a label on {where}"
    assert driver.execute_script(REMOTE_JS) == [], f"assets from another host on {where}"


def search_for(driver, url: str, name: str, typed: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url)
    wait_ready(driver)
    check_page(driver, "the empty search page")
    field = driver.find_element(By.NAME, name)
    field.clear()
    field.send_keys(typed)
    click_and_wait(driver, driver.find_element(By.ID, "search-button"))


def test_type_p63mmc_and_abo3(browser, live_server, k_cl_o_live):
    from selenium.webdriver.common.by import By

    driver = browser
    driver.set_script_timeout(30)
    page = live_server.url + "/search/?per_page=200"

    search_for(driver, page, "spacegroup_symbol", "p63/mmc")
    shot(driver, "search-p63mmc")
    check_page(driver, "the space-group search")
    number = SpaceGroup("P6_3/mmc").int_number
    cells = driver.execute_script(COLUMN_JS, "space group")
    assert cells and all(cell == f"P6_3/mmc ({number})" for cell in cells)
    assert len(cells) == Entry.objects.filter(spacegroup_number=number).count()
    readings = driver.find_element(By.ID, "search-readings").text
    assert "“p63/mmc” read as P6_3/mmc (number 194)" in readings

    search_for(driver, page, "anonymous_formula", "abo3")
    shot(driver, "search-abo3")
    check_page(driver, "the anonymous-formula search")
    formulas = driver.execute_script(COLUMN_JS, "formula")
    expected = sorted(e.reduced_formula for e in Entry.objects.all() if is_abo3_oxide(e.reduced_formula))
    assert formulas and sorted(formulas) == expected
    assert "O: oxygen" in driver.find_element(By.ID, "search-readings").text
    ids = driver.execute_script(COLUMN_JS, "id")
    exported = driver.execute_async_script(
        FETCH_JS, driver.find_element(By.ID, "export-csv").get_attribute("href")
    )
    lines = exported.strip().splitlines()
    assert lines[0].startswith("id,") or "public_id" in lines[0]
    assert [line.split(",")[lines[0].split(",").index("public_id")] for line in lines[1:]] == ids
    check_page(driver, "the export")
