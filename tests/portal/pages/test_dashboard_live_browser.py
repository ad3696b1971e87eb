"""In headless Chromium against a real Celery worker: staff (with the launch permission, not superuser) launch a
round, read why it waits, see it progress on the same page without a reload as a worker takes it, retry it and
cancel it.

The worker takes only the rounds queue and the test trains no model: the round generates, then its filter fails,
honestly reported in place; with the worker stopped, Retry queues it again and Cancel cancels it. Fails on console errors, on assets from another
origin and on form inputs without a label."""

import uuid

import pytest

from tests.portal.pages.browsing import click_and_wait, gone, no_console_errors, shot, wait_ready

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

UNLABELLED_JS = """
return Array.prototype.filter.call(
  document.querySelectorAll('input:not([type=hidden]), select, textarea'),
  function (field) { return !(field.labels && field.labels.length) && !field.getAttribute('aria-label'); }
).map(function (field) { return field.name || field.id; });
"""
FOREIGN_JS = """
var origin = window.location.origin;
return performance.getEntriesByType('resource').map(function (r) { return r.name; })
  .filter(function (name) { return name.indexOf(origin) !== 0 && name.indexOf('data:') !== 0; });
"""
STATUS_JS = "var s = document.querySelector('#round-1 [data-live=status]'); return s ? s.textContent : '';"
ERROR_JS = "var e = document.querySelector('#round-1 [data-live=error]'); return e && !e.hidden ? e.textContent : '';"
WAITING_JS = "var w = document.querySelector('#round-1 [data-live=waiting]'); return w && !w.hidden ? w.textContent : '';"
STAGE_JS = (
    "var row = document.querySelector('#round-1 tr[data-stage=generate] .status');"
    " return row ? row.textContent : '';"
)


def page_is_clean(driver, where: str) -> None:
    no_console_errors(driver, where)
    assert driver.execute_script(UNLABELLED_JS) == [], f"inputs without a label on {where}"
    assert driver.execute_script(FOREIGN_JS) == [], f"assets from another origin on {where}"


def test_staff_launch_a_round_watch_it_progress_and_cancel_it(
    browser,
    live_server,
    tmp_path,
    settings,
    mp_entry_dicts,
    django_user_model,
):
    from selenium.webdriver.common.by import By

    from discovery.models import Round, TrainedModel
    from hull.services.ingest import ingest_file
    from tests.catalogue_files import write_json
    from tests.celery_workers import (
        REDIS_URL,
        Worker,
        forget_redis_keys,
        queues_of_test,
        require_redis,
        sending_to_redis,
    )
    from tests.conftest import grant, subset

    require_redis()
    tag = uuid.uuid4().hex[:8]
    env = queues_of_test(settings, tag)
    items = [i for i in subset(mp_entry_dicts, {"Li", "Mn", "O"}) if len(i["structure"]["sites"]) <= 16]
    ingest_file(path=write_json(tmp_path / "li-mn-o.json", items))
    for kind in ("structural", "compositional"):  # what the launch form asks for; the filter never runs here
        TrainedModel.objects.create(
            name=f"registered-{kind}",
            kind=kind,
            n_models=settings.PORTAL_ROUND_ENSEMBLE_SIZE,  # as many members as a round asks for, on paper
            checkpoint_path="/none",
            is_active=True,
        )
    staff = django_user_model.objects.create_user("scientist", password="pw", is_staff=True)
    grant(staff, "discovery.launch_round")

    driver = browser
    driver.get(live_server.url + "/admin/login/?next=/discovery/")
    driver.find_element(By.NAME, "username").send_keys("scientist")
    driver.find_element(By.NAME, "password").send_keys("pw")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]"))
    assert driver.current_url.endswith("/discovery/")
    driver.get_log("browser")  # read and dropped: the admin's log-in page links no icon
    page_is_clean(driver, "the dashboard")

    worker = None
    try:
        with sending_to_redis():
            for name, value in {
                "elements": "Li, Mn, O",
                "budget": "6",
                "eval_budget": "2",
                "baseline_size": "0",
            }.items():
                field = driver.find_element(By.ID, f"id_{name}")
                field.clear()
                field.send_keys(value)
            # the estimate follows the numbers typed (no round has been timed on this fresh portal)
            wait_ready(driver, lambda d: "no estimate yet" in d.find_element(By.ID, "round-estimate").text)
            click_and_wait(driver, driver.find_element(By.ID, "launch-button"))
            assert "Round 1 launched." in driver.page_source
            # nothing takes it yet: the page says where it waits and that no worker runs anything
            waiting = driver.execute_script(WAITING_JS)
            assert f"next in line on queue 'rounds-{tag}'" in waiting, waiting
            assert "no worker is running a task now" in waiting, waiting
            assert not driver.find_element(By.ID, "round-1-resume").is_displayed()  # its task is queued
            assert "Li, Mn, O" in driver.find_element(By.ID, "round-1-settings").text
            driver.execute_script("document.getElementById('round-1').scrollIntoView()")
            shot(driver, "30-discovery-round-queued")
            driver.execute_script("window.samePage = 'not reloaded';")

            worker = Worker([settings.PORTAL_ROUNDS_QUEUE], tmp_path / "worker.log", env)
            # the generate stage runs and succeeds, on the same page (no reload), then the filter fails: the
            # registered models have no checkpoint
            wait_ready(driver, lambda d: d.execute_script(STAGE_JS) == "succeeded", timeout=300)
            wait_ready(driver, lambda d: d.execute_script(STATUS_JS) == "failed", timeout=120)
            worker.stop()
            assert driver.execute_script("return window.samePage") == "not reloaded"
            assert driver.execute_script("return window.portalDashboardPolls") >= 2
            assert driver.execute_script(ERROR_JS), "the failure's reason is not shown"
            driver.execute_script("document.getElementById('round-1').scrollIntoView()")
            shot(driver, "31-discovery-round-progress")
            page_is_clean(driver, "the dashboard after the round failed")

            # no worker now: Retry queues the round again, and the page says where it waits
            click_and_wait(driver, driver.find_element(By.ID, "round-1-retry"))
            assert f"queue 'rounds-{tag}'" in driver.execute_script(WAITING_JS)
            assert driver.find_element(By.ID, "round-1-cancel").is_displayed()

            # Cancel asks first: dismissed, nothing happens; accepted, the round is cancelled
            driver.find_element(By.ID, "round-1-cancel").click()
            question = driver.switch_to.alert
            assert "Cancel this round?" in question.text and "Retry" in question.text
            question.dismiss()
            assert driver.execute_script(STATUS_JS) != "cancelled"
            assert Round.objects.get(number=1).status != Round.Status.CANCELLED
            cancel = driver.find_element(By.ID, "round-1-cancel")
            cancel.click()
            driver.switch_to.alert.accept()
            wait_ready(driver, gone(cancel))
            wait_ready(driver)
            assert "Round 1 cancelled." in driver.page_source
            assert driver.execute_script(STATUS_JS) == "cancelled"
            assert driver.find_element(By.ID, "round-1-retry").is_displayed()
            assert not driver.find_element(By.ID, "round-1-cancel").is_displayed()
            assert not driver.find_elements(
                By.ID, "round-1-compare"
            )  # no hull comparison for a cancelled round
            assert not driver.find_elements(By.ID, "live-status")  # nothing unfinished: no polling
            driver.execute_script("document.getElementById('round-1').scrollIntoView()")
            shot(driver, "32-discovery-round-cancelled")
            page_is_clean(driver, "the dashboard after cancelling")
        assert Round.objects.get(number=1).status == Round.Status.CANCELLED
    finally:
        if worker is not None:
            worker.stop()
        forget_redis_keys(REDIS_URL, tag)


def test_the_launch_form_estimate_follows_the_numbers_typed(
    browser,
    live_server,
    tmp_path,
    mp_entry_dicts,
    django_user_model,
):
    """With one finished round timed on this portal, the estimate on the launch form changes as the numbers do,
    to what ``round_estimate`` says for them."""
    import datetime as dt

    from django.utils import timezone
    from selenium.webdriver.common.by import By

    from discovery.config import RoundConfig
    from discovery.estimate import round_estimate
    from discovery.models import Round, RoundStage, TrainedModel
    from discovery.services import round_create
    from hull.services.ingest import ingest_file
    from tests.catalogue_files import write_json
    from tests.conftest import subset

    ingest_file(path=write_json(tmp_path / "li-o.json", subset(mp_entry_dicts, {"Li", "O"})))
    TrainedModel.objects.create(name="registered", kind="structural", checkpoint_path="/none", is_active=True)
    done = round_create(config={"elements": ["Li", "O"], "budget": 100, "eval_budget": 10}, enqueue=False)
    start = timezone.now() - dt.timedelta(hours=1)
    Round.objects.filter(pk=done.pk).update(status=Round.Status.SUCCEEDED, finished_at=start)
    done.stages.exclude(name="retrain").update(
        status=RoundStage.Status.SUCCEEDED, started_at=start, finished_at=start + dt.timedelta(seconds=90)
    )
    django_user_model.objects.create_superuser("boss", "boss@example.org", "pw")

    driver = browser
    driver.get(live_server.url + "/admin/login/?next=/discovery/")
    driver.find_element(By.NAME, "username").send_keys("boss")
    driver.find_element(By.NAME, "password").send_keys("pw")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "input[type=submit], button[type=submit]"))
    driver.get_log("browser")  # read and dropped: the admin's log-in page links no icon
    output = driver.find_element(By.ID, "round-estimate")
    assert output.text == round_estimate(plan=RoundConfig()).text()
    budget = driver.find_element(By.ID, "id_budget")
    budget.clear()
    budget.send_keys("5000")
    expected = round_estimate(plan=RoundConfig(budget=5000)).text()
    assert expected != output.text  # the page has to change it
    wait_ready(driver, lambda d: d.find_element(By.ID, "round-estimate").text == expected)
    assert "from the stage times of the last 1 finished round" in expected
    page_is_clean(driver, "the launch form")
