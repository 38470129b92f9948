"""Buying and redeeming a gift subscription in Chromium: a reader buys 6 months for a friend
with the test card, the friend opens the e-mailed link, signs in and redeems it, and a second
browser with the same link is told it was already redeemed. Zero axe violations on every
page, at 375 and 1280 px; the screenshots are kept in docs/ (docs/gift-subscriptions.md)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from masthead.giftsubs.models import GiftStatus, GiftSubscription
from masthead.subscriptions.models import Subscription
from tests import factories
from tests.gifts.support import monthly
from tests.giftsubs import support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1280)
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def _shots(page, axe, screenshot, name: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _no_violations(axe, page)
        shutil.copy(screenshot(page, f"{name}-{width}"), DOCS / f"{name}-{width}.png")


def _sign_in(page, base: str, email: str, next_path: str = "") -> None:
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()


def test_a_reader_buys_a_gift_and_the_friend_redeems_it(
    live_server, page, browser, axe, screenshot
):
    monthly()
    base = live_server.url
    factories.user("mara@example.com")
    friend = factories.user("rosa@example.com")

    page.goto(f"{base}/gift/")
    assert "sign in" in page.inner_text("main")
    _sign_in(page, base, "mara@example.com")
    page.goto(f"{base}/gift/")
    page.get_by_label("6 months").check()
    page.get_by_label("Their name").fill("Rosa Diaz")
    page.get_by_label("Their e-mail address").fill("rosa@example.com")
    page.get_by_label("Your message (optional)").fill("For the train rides")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    _shots(page, axe, screenshot, "gift-subscriptions-buy")
    page.get_by_label("Their e-mail address").fill("rosa-at-example")
    page.get_by_role("button", name="Pay and send the gift").click()
    # A bad address is a form error that keeps what was typed.
    assert "Enter an e-mail address like name@example.com." in page.inner_text("main")
    assert page.get_by_label("Their name").input_value() == "Rosa Diaz"
    assert page.get_by_label("Your message (optional)").input_value() == "For the train rides"
    _no_violations(axe, page)
    page.get_by_label("Their e-mail address").fill("rosa@example.com")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Pay and send the gift").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you for your gift"
    assert "$90" in page.inner_text("main")
    _no_violations(axe, page)

    gift = GiftSubscription.objects.get()
    assert gift.status == GiftStatus.DELIVERED
    code = support.code_sent_to("rosa@example.com")
    link = f"/gift/redeem/{code}/"

    rosa = browser.new_page()
    rosa.goto(f"{base}{link}")
    assert "sign in" in rosa.inner_text("main")
    _sign_in(rosa, base, "rosa@example.com", link)
    assert rosa.url == f"{base}{link}"
    assert "For the train rides" in rosa.inner_text("main")
    _shots(rosa, axe, screenshot, "gift-subscriptions-redeem")
    other = browser.new_page()  # a second browser, signed in as someone else, same link
    factories.user("sam@example.com")
    _sign_in(other, base, "sam@example.com", link)
    assert other.url == f"{base}{link}"
    rosa.get_by_role("button", name="Redeem my gift").click()
    assert "Your gift is redeemed" in rosa.inner_text("main")
    other.get_by_role("button", name="Redeem my gift").click()
    assert "This gift has already been redeemed" in other.inner_text("main")
    _no_violations(axe, other)
    sub = Subscription.objects.get(user=friend)
    assert sub.status == "complimentary"
    assert not Subscription.objects.filter(user__email="sam@example.com").exists()
