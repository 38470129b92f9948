"""The whole subscription journey in Chromium: a fresh reader spends the meter, signs up,
takes "Try 1 month for $0.99" with the test card, reads a subscribers-only article in full,
cancels, and after the period their full access has expired. And a card-less trial that
ends shows "Your trial period has expired"."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.core import clock
from masthead.core.jobs import run_due_jobs
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.subscriptions.conftest import make_catalog

pytestmark = pytest.mark.django_db(transaction=True)
SITE = "The Meridian Review"


@pytest.fixture(autouse=True)
def newsroom_and_catalog(transactional_db):
    make_catalog()
    yield
    clock.reset()


def body(name: str) -> list:
    return [
        ("paragraph", f"<p>{name} opens with a scene anyone may read.</p>"),
        ("paragraph", f"<p>{name} sets out the stakes in a second paragraph.</p>"),
        ("subheading", f"What {name} uncovered"),
        ("paragraph", f"<p>{name} closes with the part only full readers see.</p>"),
    ]


def no_axe_violations(axe, page) -> None:
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in axe(page)] == []


def time_passes(days: int) -> None:
    clock.advance(timedelta(days=days))
    run_due_jobs()


def test_reader_subscribes_reads_cancels_and_lapses(live_server, page, axe, screenshot):
    base = live_server.url
    metered = [
        factories.article(f"Harbour file {n}", body=body(f"Harbour file {n}")) for n in range(4)
    ]
    exclusive = factories.article(
        "The ledger nobody audited",
        access_level=AccessLevel.SUBSCRIBERS,
        body=body("The ledger nobody audited"),
    )
    # 1. A fresh reader spends the meter and meets the paywall.
    for article in metered:
        page.goto(f"{base}{article.url}")
    assert "Harbour file 3 closes with the part" not in page.content()
    page.get_by_role("link", name="See all offers and subscribe").first.click()
    assert page.url == f"{base}/offers/"
    # 2. Signs up.
    page.goto(f"{base}/accounts/signup/")
    page.get_by_label("Email").fill("new.subscriber@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password (again)", exact=True).fill("a-long-pass-phrase")
    page.get_by_role("button", name="Sign Up").click()
    # 3. Opens the offers and takes "Try 1 month for $0.99" with the test card.
    page.goto(f"{base}/offers/")
    no_axe_violations(axe, page)
    screenshot(page, "subscription-offers")
    page.get_by_role("link", name="Try 1 month for $0.99").first.click()
    assert page.get_by_role("heading", level=1).inner_text() == "Try 1 month for $0.99"
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    no_axe_violations(axe, page)
    # The renewal terms beside an unchecked box; paying without it is refused.
    box = page.get_by_label("I agree to these terms")
    assert not box.is_checked()
    assert "renews automatically at $15 a month" in page.locator("#consent-terms").inner_text()
    page.get_by_role("button", name="Pay $0.99 and subscribe").click()
    assert "Tick the box to agree" in page.locator("#consent-error").inner_text()
    assert page.get_by_label("Expiry date (MM/YY)").input_value() == "12/34"
    no_axe_violations(axe, page)
    screenshot(page, "checkout-consent-refused")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_label("I agree to these terms").check()
    page.get_by_role("button", name="Pay $0.99 and subscribe").click()
    assert page.url == f"{base}/account/subscription/"
    account = page.content()
    assert "Active" in account and "Visa ending 4242" in account and "$0.99" in account
    no_axe_violations(axe, page)
    screenshot(page, "subscription-account")
    # 4. Reads a subscribers-only article in full.
    page.goto(f"{base}{exclusive.url}")
    assert "The ledger nobody audited closes with the part only full readers see." in page.content()
    # 5. Cancels: access stays until the period ends.
    page.goto(f"{base}/account/subscription/")
    page.locator("summary", has_text="Cancel subscription").click()
    page.locator("#cancel").get_by_role("button", name="Cancel subscription").click()
    assert "You keep full access until" in page.content()
    page.goto(f"{base}{exclusive.url}")
    assert "closes with the part only full readers see" in page.content()
    # 6. The clock passes the period end; the site says their full access has expired.
    time_passes(32)
    page.goto(f"{base}{exclusive.url}")
    html = page.content()
    assert f"Your full access to {SITE} has expired" in html
    assert "closes with the part only full readers see" not in html
    no_axe_violations(axe, page)
    screenshot(page, "subscription-lapsed")


def test_trial_without_a_card_ends_with_the_trial_message(live_server, page, axe):
    base = live_server.url
    factories.user("trialist@example.com", password="correct-horse-42")
    exclusive = factories.article(
        "Inside the seed vault",
        access_level=AccessLevel.SUBSCRIBERS,
        body=body("Inside the seed vault"),
    )
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill("trialist@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{base}/offers/")
    page.get_by_role("link", name="Try free for 14 days").first.click()
    assert page.get_by_label("Card number").count() == 0
    page.get_by_role("button", name="Start my free trial").click()
    assert "Free trial" in page.content()
    page.goto(f"{base}{exclusive.url}")
    assert "Inside the seed vault closes with the part only full readers see." in page.content()
    time_passes(15)
    page.goto(f"{base}{exclusive.url}")
    html = page.content()
    assert "Your trial period has expired" in html
    assert "closes with the part only full readers see" not in html
    no_axe_violations(axe, page)
