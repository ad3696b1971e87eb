"""Browser tests in headless Chromium (Debian's chromium and chromium-driver) against the live server: from the
home page to a material, its 3D view, its phase diagram, the unstable-entry control and back to a material by
clicking a point; then every family screen. Any console error fails the test; screenshots go to
``test-artifacts/``."""

import pytest

from hull.services.ingest import ingest_file
from tests.portal.pages.browsing import click_and_wait, no_console_errors, shot, wait_figures, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_search_material_diagram_and_back(browser, live_server, live_catalogue):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    driver.get(live_server.url + "/")
    wait_figures(driver)
    shot(driver, "01-home")
    no_console_errors(driver, "home")

    # Search by clicking: the nav, the periodic table, the search button.
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Search"))
    driver.find_element(By.CSS_SELECTOR, '#ptable [data-el="Li"]').click()
    driver.find_element(By.CSS_SELECTOR, '#ptable [data-el="O"]').click()
    assert driver.find_element(By.ID, "f-elements").get_attribute("value") == "Li,O"
    driver.find_element(By.NAME, "formula").send_keys("Li2O")
    driver.find_element(By.ID, "search-button").click()
    wait_ready(driver, lambda d: "formula=Li2O" in d.current_url)
    assert "elements=Li%2CO" in driver.current_url and "exclude_elements" not in driver.current_url
    shot(driver, "02-search")
    no_console_errors(driver, "search")

    # Open a material and rotate its 3D view.
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "a.material-link"))
    wait_figures(driver)
    assert "/materials/" in driver.current_url
    view = driver.find_element(By.ID, "structure-view")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", view)
    before = driver.execute_script("return JSON.stringify(arguments[0]._fullLayout.scene.camera.eye)", view)
    ActionChains(driver).move_to_element(view).click_and_hold().move_by_offset(120, 40).release().perform()
    wait_ready(
        driver,
        lambda d: (
            d.execute_script("return JSON.stringify(arguments[0]._fullLayout.scene.camera.eye)", view)
            != before
        ),
    )
    shot(driver, "03-material")
    no_console_errors(driver, "material")

    # Its phase diagram; move the unstable control.
    click_and_wait(driver, driver.find_element(By.ID, "pd-link"))
    wait_figures(driver)
    assert "chemsys=Li-O" in driver.current_url
    count_js = (
        "var d = document.getElementById('pd-figure');"
        "return d.data.find(function (t) { return t.meta && t.meta.role === 'unstable'; }).x.length;"
    )
    shown = driver.execute_script(count_js)
    rows = len(driver.find_elements(By.CSS_SELECTOR, "#entries-table tbody tr:not([hidden])"))
    slider = driver.find_element(By.ID, "cutoff")
    slider.send_keys(Keys.HOME)
    wait_ready(driver, lambda d: d.find_element(By.ID, "cutoff-value").text == "0.000")
    wait_ready(driver, lambda d: d.execute_script(count_js) < shown)
    assert len(driver.find_elements(By.CSS_SELECTOR, "#entries-table tbody tr:not([hidden])")) < rows
    assert "cutoff=0" in driver.current_url
    slider.send_keys(Keys.END)
    wait_ready(driver, lambda d: d.execute_script(count_js) >= shown)
    shot(driver, "04-phase-diagram")
    no_console_errors(driver, "phase diagram")

    # Click a stable compound on the plot: its page opens.
    plot = driver.find_element(By.ID, "pd-figure")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", plot)
    target = driver.execute_script(
        """
        var gd = document.getElementById('pd-figure');
        var trace = gd.data.find(function (t) { return t.name === 'stable'; });
        var i = trace.x.findIndex(function (x) { return x > 0.05 && x < 0.95; });
        var xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect();
        return [xa._offset + xa.l2p(trace.x[i]) - box.width / 2, ya._offset + ya.l2p(trace.y[i]) - box.height / 2,
                trace.customdata[i][0]];
        """
    )
    ActionChains(driver).move_to_element_with_offset(plot, int(target[0]), int(target[1])).pause(
        0.3
    ).perform()
    hovered = driver.execute_script(
        "var h = document.getElementById('pd-figure')._hoverdata; return h && h[0].customdata[0];"
    )
    assert hovered, "no point under the pointer"
    ActionChains(driver).click().perform()
    wait_ready(driver, lambda d: f"/materials/{hovered}/" in d.current_url)
    wait_figures(driver)
    shot(driver, "05-material-from-diagram")
    no_console_errors(driver, "material from the diagram")


def test_family_screens_and_dashboard(browser, live_server, live_catalogue):
    from selenium.webdriver.common.by import By

    driver = browser
    for link_id in ("fam-layered", "fam-li-conductors", "fam-li-mn-oxides", "fam-prototypes"):
        driver.get(live_server.url + "/families/")
        wait_ready(driver)
        driver.find_element(By.ID, link_id).click()
        wait_ready(driver, lambda d: d.find_elements(By.ID, "funnel"))
        shot(driver, f"06-{link_id}")
        no_console_errors(driver, link_id)
    driver.find_element(By.LINK_TEXT, "Discovery").click()
    wait_ready(driver, lambda d: d.find_elements(By.ID, "no-rounds"))
    no_console_errors(driver, "discovery dashboard")
    # A phone-sized window: the menu folds away and the ternary diagram still draws.
    driver.set_window_size(390, 844)
    try:
        driver.get(live_server.url + "/phase-diagram/?chemsys=Li-O")
        wait_figures(driver)
        search_link = driver.find_element(By.CSS_SELECTOR, 'nav a[href="/search/"]')
        assert not search_link.is_displayed()
        driver.find_element(By.ID, "nav-button").click()
        assert search_link.is_displayed()
        shot(driver, "07-phone-phase-diagram")
        no_console_errors(driver, "phone")
    finally:
        driver.set_window_size(1280, 1000)


@pytest.mark.parametrize("path", ["/api/docs/", "/api/auth/login/", "/admin/login/"])
def test_third_party_pages_work_under_the_content_security_policy(browser, live_server, path):
    """Swagger UI (its script from a file), the sign-in pages: drawn with no console errors (a refused inline
    script or style is one; the admin's missing favicon is not ours)."""
    driver = browser
    driver.get(live_server.url + path)
    wait_ready(driver)
    if path == "/api/docs/":
        wait_ready(
            driver, lambda d: d.execute_script("return !!document.querySelector('.swagger-ui .info .title')")
        )
    else:
        wait_ready(
            driver, lambda d: d.execute_script("return !!document.querySelector('input[name=password]')")
        )
    shot(driver, "08" + path.replace("/", "-").rstrip("-"))
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert [e for e in severe if "/favicon.ico" not in e["message"]] == [], severe  # the admin links no icon


@pytest.mark.celery_worker
def test_an_admin_trains_the_model_launches_a_round_and_watches_it_finish(
    browser, live_server, tmp_path, settings, mp_entry_dicts, django_user_model
):
    """Out of the box: a round launched without a model is refused with an offer to train it; the training runs
    on a real worker with its progress on the page, then the round runs there and the page (refreshing itself)
    shows it succeed; the hull is consistent afterwards and run_discovery completes too. The demo preset is the
    tiny config here (PORTAL_DEMO_MODEL_*), so that the test takes a few minutes."""
    import uuid

    from django.core.management import call_command
    from selenium.webdriver.common.by import By

    from discovery.models import Round, TrainingJob
    from tests.catalogue_files import write_json
    from tests.celery_workers import (
        REDIS_URL,
        Worker,
        forget_redis_keys,
        queues_of_test,
        require_redis,
        sending_to_redis,
    )
    from tests.conftest import subset

    require_redis()
    tag = uuid.uuid4().hex[:8]
    queues = queues_of_test(settings, tag)  # the worker takes every queue
    settings.PORTAL_MODEL_DIR = tmp_path / "models"
    demo = {
        "PORTAL_DEMO_MODEL_CONFIG": "tiny",
        "PORTAL_DEMO_MODEL_MEMBERS": "1",
        "PORTAL_DEMO_MODEL_EPOCHS": "2",
    }
    (
        settings.PORTAL_DEMO_MODEL_CONFIG,
        settings.PORTAL_DEMO_MODEL_MEMBERS,
        settings.PORTAL_DEMO_MODEL_EPOCHS,
    ) = (
        "tiny",
        1,
        2,
    )
    env = {
        **demo,
        **queues,
        "PORTAL_MODEL_DIR": str(settings.PORTAL_MODEL_DIR),
    }
    worker = Worker(sorted(queues.values()), tmp_path / "worker.log", env)
    try:
        items = [i for i in subset(mp_entry_dicts, {"Li", "Mn", "O"}) if len(i["structure"]["sites"]) <= 16]
        ingest_file(path=write_json(tmp_path / "li-mn-o.json", items))
        django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")
        driver = browser
        driver.get(live_server.url + "/admin/login/?next=/discovery/")
        driver.find_element(By.NAME, "username").send_keys("boss")
        driver.find_element(By.NAME, "password").send_keys("pw")
        driver.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]").click()
        wait_ready(driver, lambda d: d.current_url.endswith("/discovery/"))

        def launch() -> None:
            for name, value in {
                "elements": "Li, Mn, O",
                "budget": "10",
                "eval_budget": "2",
                "baseline_size": "0",
            }.items():
                field = driver.find_element(By.ID, f"id_{name}")
                field.clear()
                field.send_keys(value)
            click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "#launch-form button"))

        with sending_to_redis():
            # no model yet: the form says which one and offers to train it
            launch()
            assert "No active structural model" in driver.find_element(By.ID, "launch-form").text
            assert not Round.objects.exists()
            shot(driver, "20-discovery-model-missing")
            driver.get_log("browser")  # read and dropped: the refusal's 400 and the admin's missing favicon
            driver.find_element(By.ID, "train-missing-structural").click()
            wait_ready(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#training-jobs progress"))
            assert TrainingJob.objects.get().reason == "started from the dashboard"
            shot(driver, "21-discovery-training")
            # the page refreshes itself until the model is active
            wait_ready(driver, lambda d: d.find_elements(By.ID, "active-structural"), timeout=900)
            assert "succeeded" in driver.execute_script(
                "return document.getElementById('training-jobs').textContent"
            )
            no_console_errors(driver, "dashboard while training")

            launch()
            assert "Round 1 launched." in driver.page_source, driver.find_element(By.ID, "launch-form").text
            # read in one script: the page may be replacing itself (it refreshes while the round runs)
            status_js = (
                "var s = document.querySelector('#round-1 h3 .status'); return s ? s.textContent : '';"
            )
            wait_ready(driver, lambda d: d.execute_script(status_js) in ("succeeded", "failed"), timeout=1200)
            shot(driver, "22-discovery-round-finished")
            round = Round.objects.get(number=1)
            assert round.status == Round.Status.SUCCEEDED, round.error
            no_console_errors(driver, "dashboard after the round")

        # the command line, through the same model; then the hull is consistent
        call_command(
            "run_discovery",
            *("--rounds", "1", "--budget", "20", "--eval-budget", "5", "--elements", "Li,Mn,O"),
            *("--baseline-size", "0", "--relax-steps", "20"),
        )
        assert Round.objects.get(number=2).status == Round.Status.SUCCEEDED
        call_command("check_hull")
    finally:
        worker.stop()
        forget_redis_keys(REDIS_URL, tag)
