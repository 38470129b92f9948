"""The insights dashboards in Chromium at 1280 px with the demo's history: the funnel chart
drawn, the tables behind it, and axe-core finding nothing."""

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
    bars = page.locator("svg.insights-chart rect.bar")
    assert bars.count() == 7
    widths = [float(bars.nth(i).get_attribute("width") or 0) for i in range(7)]
    assert widths[0] == 440.0 and all(0 < w <= 440.0 for w in widths)  # visitors are the most
    assert page.locator("table caption", has_text="Conversions by article").count() == 1
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    screenshot(page, "insights-funnel-1280")

    page.goto(f"{demo_site}/admin/insights/operations/")
    assert page.locator("h2", has_text="Meter store").count() == 1
    violations = axe(page)
    assert violations == [], [(v["id"], v["nodes"][0]["html"]) for v in violations]
    screenshot(page, "insights-operations-1280")
