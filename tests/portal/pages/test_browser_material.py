"""Browser check in headless Chromium of the material page's 3D view: bonds hidden and polyhedra shown from the
boxes at once, bonds shown again from the plot's legend, the conventional cell picked with the view kept; every
control labelled and no console error on the way."""

import pytest
from pymatgen.core import Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from hull.models import Entry
from tests.portal.pages.browsing import click_and_wait, no_console_errors, shot, wait_figures, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VISIBLE_JS = """
var role = arguments[0];
var div = document.getElementById('structure-view');
return div.data.filter(function (t) { return t.meta && t.meta.role === role; })
  .map(function (t) { return t.visible === undefined ? true : t.visible; });
"""

UNLABELLED_JS = """
return Array.prototype.filter.call(document.querySelectorAll('input:not([type=hidden]), select'), function (el) {
  return !(el.labels && el.labels.length) && !el.getAttribute('aria-label');
}).map(function (el) { return el.outerHTML; });
"""


def visible(driver, role: str) -> list:
    return driver.execute_script(VISIBLE_JS, role)


def test_bonds_polyhedra_and_cell(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    entry = Entry.objects.get(source_id="mp-1960")  # Li2O
    driver.get(f"{live_server.url}/materials/{entry.public_id}/")
    wait_figures(driver)
    assert driver.execute_script(UNLABELLED_JS) == []
    assert set(visible(driver, "bonds")) == {True}
    assert set(visible(driver, "polyhedra")) == {"legendonly"}
    link = driver.find_element(By.CSS_SELECTOR, "#source-id a")
    assert link.get_attribute("href") == "https://next-gen.materialsproject.org/materials/mp-1960"
    no_console_errors(driver, "material")

    # Hide the bonds and show the polyhedra with the boxes: at once, without a reload, the address in step.
    driver.execute_script("window.samePage = true;")
    driver.find_element(By.ID, "view-bonds").click()
    driver.find_element(By.ID, "view-polyhedra").click()
    wait_ready(driver, lambda d: set(visible(d, "bonds")) == {"legendonly"})
    wait_ready(driver, lambda d: set(visible(d, "polyhedra")) == {True})
    assert "bonds=0" in driver.current_url and "polyhedra=1" in driver.current_url
    assert driver.execute_script("return window.samePage === true;")
    no_console_errors(driver, "material without bonds")

    # Show the bonds again from the plot's legend: the box follows.
    legend = next(
        item
        for item in driver.find_elements(By.CSS_SELECTOR, "#structure-view .legend .traces")
        if item.find_element(By.CSS_SELECTOR, ".legendtext").text == "bonds"
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", legend)
    legend.find_element(By.CSS_SELECTOR, ".legendtoggle").click()
    wait_ready(driver, lambda d: set(visible(d, "bonds")) == {True})
    wait_ready(driver, lambda d: d.find_element(By.ID, "view-bonds").is_selected())
    assert "bonds=1" in driver.current_url
    shot(driver, "material-polyhedra")

    # Hide the bonds again, then ask the server for the conventional cell: the view is kept.
    driver.find_element(By.ID, "view-bonds").click()
    wait_ready(driver, lambda d: set(visible(d, "bonds")) == {"legendonly"})
    # The conventional cell: the sites listed are pymatgen's conventional standard cell.
    Select(driver.find_element(By.ID, "view-cell")).select_by_value("conventional")
    click_and_wait(driver, driver.find_element(By.ID, "view-button"))
    wait_figures(driver)
    conventional = SpacegroupAnalyzer(
        Structure.from_dict(entry.structure), symprec=entry.symprec or 0.1
    ).get_conventional_standard_structure()
    assert "cell=conventional" in driver.current_url
    assert len(driver.find_elements(By.CSS_SELECTOR, "table.sites tbody tr")) == len(conventional)
    assert len(conventional) != entry.nsites
    assert set(visible(driver, "polyhedra")) == {True}  # the other choices kept
    assert set(visible(driver, "bonds")) == {"legendonly"}
    assert not driver.find_element(By.ID, "view-bonds").is_selected()
    # the symmetry form carries the view along
    click_and_wait(driver, driver.find_element(By.ID, "symprec-button"))
    wait_figures(driver)
    assert "bonds=0" in driver.current_url and "cell=conventional" in driver.current_url
    shot(driver, "material-conventional")
    no_console_errors(driver, "material, conventional cell")
