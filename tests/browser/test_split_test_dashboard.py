"""The split-test pages in Chromium with the demo's history, at 375 and 1280 px: the list, the
running experiment's figures (a bar and a 95% interval per variant, the table behind them, the
verdict), stopping it and applying a winner without JavaScript, and axe-core finding nothing."""

from __future__ import annotations

import pytest

from masthead.core import demo as core_demo
from masthead.experiments.models import Experiment, State
from masthead.insights import demo as insights_demo
from masthead.metering.models import MeterPolicy
from masthead.newsroom import demo as newsroom_demo
from masthead.subscriptions import demo as subscriptions_demo
from tests.browser.test_insights_dashboards import sign_in


@pytest.fixture
def demo_site(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    newsroom_demo.load()
    subscriptions_demo.load()
    core_demo.load()
    assert insights_demo.load()
    return live_server.url


def no_violations(axe, page) -> None:
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]


@pytest.mark.django_db(transaction=True)
def test_the_split_test_pages_at_375_and_1280(page, demo_site, axe, screenshot):
    experiment = Experiment.objects.get(state=State.RUNNING)
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, demo_site)
    page.goto(f"{demo_site}/admin/insights/experiments/")
    assert page.locator("table caption", has_text="Experiments").count() == 1
    assert page.locator("a", has_text="Preview: two blocks or three").count() == 1
    no_violations(axe, page)
    screenshot(page, "split-tests-list-1280")

    page.click("a:has-text('Preview: two blocks or three')")
    page.wait_for_url(f"**/admin/insights/experiments/{experiment.pk}/")
    chart = page.locator("svg.insights-chart")
    assert chart.locator("rect.bar").count() == 2
    assert chart.locator("line.whisker").count() == 2
    rows = page.locator("table caption:has-text('Variants') >> xpath=.. >> tbody tr")
    assert rows.count() == 2
    exposed = [int(rows.nth(i).locator("td").nth(3).inner_text()) for i in range(2)]
    assert all(n > 50 for n in exposed), exposed  # the demo's readers split between the arms
    verdict = page.locator(".experiment-verdict").inner_text()
    assert "not yet significant" in verdict or "than the control" in verdict
    no_violations(axe, page)
    screenshot(page, "split-test-1280")
    page.set_viewport_size({"width": 375, "height": 800})
    no_violations(axe, page)
    screenshot(page, "split-test-375")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("button:has-text('Stop the experiment')")
    page.wait_for_url(f"**/admin/insights/experiments/{experiment.pk}/")
    page.select_option("select[name=variant]", label="Three blocks: 3 preview blocks")
    page.click("button:has-text('Apply the winner')")
    page.wait_for_url(f"**/admin/insights/experiments/{experiment.pk}/")
    assert page.locator("text=winner applied: Three blocks").count() == 1
    assert MeterPolicy.objects.get().preview_blocks == 3
    assert page.locator("td", has_text="Winner applied").count() == 1
    no_violations(axe, page)
