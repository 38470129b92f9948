"""The past-due banner in a browser (docs/dunning.md): a past-due reader signs in and sees it
on the front page and an article; its link opens the card form; a new card pays the renewal
and the banner is gone on the next page. Zero axe violations, at 375 and 1280 px; the
screenshots are kept in docs/ (docs/dunning-banner-*.png)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from masthead.access.levels import AccessLevel
from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.subscriptions.conftest import card, make_catalog

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1280)
DOCS = Path(__file__).resolve().parents[2] / "docs"
BANNER = "Your last payment didn't go through — update your card to keep reading"


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_a_past_due_reader_sees_the_banner_and_updates_the_card(live_server, page, axe, screenshot):
    catalog = make_catalog()
    factories.home_page()
    article = factories.article(
        "Harbour talks resume",
        access_level=AccessLevel.SUBSCRIBERS,
        standfirst="The port authority and the unions meet again on Monday.",
    )
    reader = factories.user("late@example.com")
    now = clock.now()
    sub = actions.subscribe(
        reader,
        plan=catalog.monthly,
        card=card(reader, TEST_CARD_FAILS_ON_RENEWAL, now=now),
        now=now,
    )
    actions.record_payment_failure(sub, now=now, reason="card declined")
    base = live_server.url

    page.goto(f"{base}/")
    assert page.locator(".standing-notice").count() == 0  # signed out: nobody's banner
    page.goto(f"{base}/accounts/login/?next={article.url}")
    page.get_by_label("Email").fill("late@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(f"{base}{article.url}")
    banner = page.get_by_role("region", name="Payment problem")
    assert " ".join(banner.inner_text().split()) == BANNER
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 700})
        _no_violations(axe, page)
        shot = screenshot(page, f"dunning-banner-{width}")
        shutil.copy(shot, DOCS / f"dunning-banner-{width}.png")
    page.goto(f"{base}/")
    assert page.get_by_role("region", name="Payment problem").is_visible()
    _no_violations(axe, page)

    page.get_by_role("link", name="update your card to keep reading").click()
    page.wait_for_url(f"{base}/account/payment-method/")
    assert page.get_by_role("heading", name="Update your card").is_visible()
    _no_violations(axe, page)
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    with page.expect_navigation():
        page.get_by_role("button", name="Save card").click()
    page.wait_for_url(f"{base}/account/subscription/")
    assert Subscription.objects.get(pk=sub.pk).status == Status.ACTIVE
    assert page.locator(".standing-notice").count() == 0
    page.goto(f"{base}{article.url}")
    assert page.locator(".standing-notice").count() == 0
