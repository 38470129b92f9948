"""A fresh reader spends the meter in Chromium: one server-rendered message per page, then the
preview and the paywall; zero axe violations; the same with JavaScript off."""

from __future__ import annotations

import re

import pytest

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


MESSAGES = [
    "You have 2 free articles left this month",
    "You have 1 free article left this month",
    "This is your last free article this month",
]
EVERY_VARIANT = re.compile(r"free articles? left|last free article|read all \d+ free articles")


def newsroom() -> list:
    def body(name: str) -> list:
        return [
            ("paragraph", f"<p>{name} begins where every reader can follow along.</p>"),
            ("paragraph", f"<p>{name} adds a second paragraph before any cut.</p>"),
            ("subheading", f"What {name} found"),
            ("paragraph", f"<p>{name} reveals the finding only full readers get.</p>"),
        ]

    return [factories.article(f"Dispatch {n}", body=body(f"Dispatch {n}")) for n in range(1, 5)]


def read_four(page, base_url: str, articles: list) -> str:
    for article, expected in zip(articles[:3], MESSAGES, strict=True):
        page.goto(f"{base_url}{article.url}")
        html = page.content()
        assert page.locator(".meter-message").inner_text() == expected
        assert EVERY_VARIANT.findall(html) == [EVERY_VARIANT.search(expected)[0]]
        assert f"{article.title} reveals the finding" in html
        assert "{{" not in html and "{%" not in html
    page.goto(f"{base_url}{articles[3].url}")
    return page.content()


def assert_paywalled(page, html: str) -> None:
    assert "Dispatch 4 adds a second paragraph" in html
    assert "Dispatch 4 reveals the finding" not in html
    assert page.locator(".meter-message").count() == 0
    assert EVERY_VARIANT.findall(html) == ["read all 3 free articles"]
    offers = page.get_by_role("link", name="See all offers and subscribe")
    assert offers.get_attribute("href") == "/offers/"
    assert "{{" not in html and "{%" not in html


def test_fresh_reader_counts_down_to_the_paywall(live_server, page, axe, screenshot):
    articles = newsroom()
    html = read_four(page, live_server.url, articles)
    assert_paywalled(page, html)
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []
    screenshot(page, "meter-paywall")


def test_the_meter_works_with_javascript_off(live_server, browser):
    articles = newsroom()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    try:
        html = read_four(page, live_server.url, articles)
        assert_paywalled(page, html)
    finally:
        context.close()
