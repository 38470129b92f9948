"""A subscriber gives an article and a fresh reader opens the gift link, in Chromium: the
link is shown ready to copy, the reader reads the whole article with the giver's note, and
every page has zero axe violations at 375 and 1280 px."""

from __future__ import annotations

import pytest

from masthead.core import clock
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1280)
LAST = "The harbour master kept the last ledger himself."


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_a_subscriber_gives_an_article_and_a_fresh_reader_opens_it(
    live_server, page, browser, axe, screenshot
):
    save_policy(anonymous_allowance=0, gift_allowance=3)
    body = [*factories.paragraphs(3), ("paragraph", f"<p>{LAST}</p>")]
    article = factories.article(
        "The harbour ledger", access_level=AccessLevel.SUBSCRIBERS, body=body
    )
    giver = support.subscriber(clock.now(), first_name="Mara", email="mara@example.com")
    assert giver.email == "mara@example.com"

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("mara@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}{article.url}")
    assert "You have 3 gifts left this month." in page.inner_text("main")
    _no_violations(axe, page)
    screenshot(page, "gift-article-subscriber-1280")
    page.get_by_role("button", name="Gift this article").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your gift link is ready"
    link = page.get_by_label("Copy the link and send it to someone").input_value()
    assert link.startswith(f"{live_server.url}{article.url}?gift=")
    assert "You have 2 gifts left this month." in page.inner_text("main")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _no_violations(axe, page)
        screenshot(page, f"gift-created-{width}")

    page.goto(f"{live_server.url}/accounts/gifts/")
    assert "The harbour ledger" in page.inner_text("main")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _no_violations(axe, page)
        screenshot(page, f"gift-links-{width}")

    fresh = browser.new_context()
    reader = fresh.new_page()
    reader.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    reader.goto(link)
    text = reader.inner_text("main")
    assert LAST in text
    assert "Mara gave you this article" in text
    for width in WIDTHS:
        reader.set_viewport_size({"width": width, "height": 900})
        _no_violations(axe, reader)
        screenshot(reader, f"gift-opened-{width}")
    reader.goto(f"{live_server.url}{article.url}")
    assert LAST not in reader.inner_text("main")  # without the link: the paywall
    fresh.close()

    page.goto(f"{live_server.url}/accounts/gifts/")
    row = page.get_by_role("row", name="The harbour ledger")
    assert row.get_by_role("cell").nth(3).inner_text() == "1"  # one open
