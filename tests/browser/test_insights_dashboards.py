"""The insights dashboards in Chromium at 1280 px with the demo's history: the funnel and MRR
charts drawn, the tables behind them (attribution by article, section and author under both
rules, MRR, trial conversion, revenue per thousand visitors), and axe-core finding nothing."""

from __future__ import annotations

import pytest

from masthead.core import demo as core_demo
from masthead.insights import demo as insights_demo
from masthead.insights.models import Event
from masthead.newsroom import demo as newsroom_demo
from masthead.subscriptions import demo as subscriptions_demo


@pytest.fixture
def demo_site(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    newsroom_demo.load()
    subscriptions_demo.load()
    core_demo.load()
    assert insights_demo.load()
    assert Event.objects.count() > 1000
    return live_server.url


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", core_demo.PUBLISHER_EMAIL)
    page.fill("input[name=password]", core_demo.PUBLISHER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/admin/")


@pytest.mark.django_db(transaction=True)
def test_each_dashboard_at_1280_has_no_axe_violations(page, demo_site, axe, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, demo_site)
    page.goto(f"{demo_site}/admin/insights/?days=90")
    bars = page.locator("svg.insights-chart").first.locator("rect.bar")
    assert bars.count() == 7
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(7)]
    assert widths[0] == 440.0 and all(0 < w <= 440.0 for w in widths)  # visitors are the most
    for caption in (
        "Conversions by article",
        "Conversions by section",
        "Conversions by author",
        "MRR and its movements",
        "Trial conversion",
        "Revenue per thousand visitors",
    ):
        assert page.locator("table caption", has_text=caption).count() == 1, caption
    assert page.locator("svg.insights-chart").count() == 2  # the funnel, MRR in USD
    mrr_bars = page.locator("svg.insights-chart").nth(1).locator("rect")
    assert mrr_bars.count() == 5
    assert page.locator("svg.insights-chart title", has_text="MRR movements in USD").count() == 1
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    screenshot(page, "insights-funnel-1280")
    # The admin scrolls inside its own pane: a window as tall as the page shows all of it.
    height = page.evaluate("document.querySelector('main')?.scrollHeight || 900")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 200, 12000)})
    page.locator("h2", has_text="Monthly recurring revenue").wait_for()
    screenshot(page, "insights-revenue-1280")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Staff choose the shared rule without JavaScript: the form's select and its button.
    page.select_option("select[name=rule]", "shared")
    page.click("form.insights-period button[type=submit]")
    page.wait_for_url("**rule=shared**")
    assert page.locator("text=Shared credit:").count() == 1
    assert page.locator("a[href*='rule=shared'][href*='csv=authors']").count() == 1
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    page.locator(
        "h2", has_text="Conversions by article, section and author"
    ).scroll_into_view_if_needed()
    screenshot(page, "insights-revenue-shared-1280")

    page.goto(f"{demo_site}/admin/insights/operations/")
    assert page.locator("h2", has_text="Meter store").count() == 1
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    screenshot(page, "insights-operations-1280")
