"""Retention in Chromium (decision 0035): a loyal subscriber starts to cancel, gives a reason,
is shown the pause as a save offer beside the confirm, takes it, sees the paused paywall and
resumes; then cancels for good, declining the offer in one click. Zero axe violations on
every page, at 375 and 1280 px; the screenshots are kept in docs/ (docs/retention.md)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from masthead.core import clock
from masthead.newsroom.models import AccessLevel
from masthead.subscriptions import actions
from masthead.subscriptions.models import EventKind, Status, Subscription
from tests import factories
from tests.gifts.support import monthly
from tests.subscriptions.conftest import card

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


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()


def test_a_loyal_reader_pauses_instead_of_cancelling_then_resumes_then_cancels(
    live_server, page, axe, screenshot
):
    plan = monthly()
    reader = factories.user("loyal@example.com")
    now = clock.now()
    start = actions.add_months(now, -13) - timedelta(days=2)
    sub = actions.subscribe(reader, plan=plan, card=card(reader, now=start), now=start)
    actions.advance(sub, now=now)
    exclusive = factories.article(
        "Harbour ledger",
        access_level=AccessLevel.SUBSCRIBERS,
        body=[
            ("paragraph", "<p>The harbour ledger opens with a lead for everyone.</p>"),
            ("paragraph", "<p>Its second paragraph is the rest of the preview.</p>"),
            ("paragraph", "<p>Only full readers learn where the ledger was kept.</p>"),
        ],
    )
    base = live_server.url
    _sign_in(page, base, "loyal@example.com")

    # 1. The account page: the cancel form asks an optional reason.
    page.goto(f"{base}/account/subscription/")
    page.locator("summary", has_text="Cancel subscription").click()
    page.get_by_label("I'm taking a break").check()
    page.get_by_role("button", name="Continue to cancel").click()
    assert page.url == f"{base}/account/subscription/cancel/confirm/"
    main = page.inner_text("main")
    assert "Before you go: Pause instead of cancelling" in main
    assert "No thanks, cancel my subscription" in main and "You keep full access until" in main
    _shots(page, axe, screenshot, "retention-cancel")

    # 2. Takes the pause: paused, and the paywall says until when with the way back.
    page.get_by_role("button", name="Pause for 2 months").click()
    assert page.url == f"{base}/account/subscription/"
    assert "Your subscription is paused until" in page.inner_text("main")
    _shots(page, axe, screenshot, "retention-paused")
    page.goto(f"{base}{exclusive.url}")
    html = page.content()
    assert "Your subscription is paused until" in html
    assert "where the ledger was kept" not in html
    _no_violations(axe, page)

    # 3. Resumes from the paywall's link: full access again.
    page.get_by_role("link", name="Resume now").click()
    page.get_by_role("button", name="Resume now").click()
    assert "Welcome back" in page.inner_text("main")
    page.goto(f"{base}{exclusive.url}")
    assert "where the ledger was kept" in page.content()

    # 4. Cancels for good: the offer is in the cooldown now, so the form is the confirm.
    page.goto(f"{base}/account/subscription/")
    page.locator("summary", has_text="Cancel subscription").click()
    page.get_by_label("It costs too much").check()
    page.locator("#cancel").get_by_role("button", name="Cancel subscription").click()
    assert "Your subscription is cancelled" in page.inner_text("main")
    _no_violations(axe, page)
    sub = Subscription.objects.get(user=reader)
    assert sub.status == Status.CANCELLED
    kinds = list(sub.events.values_list("kind", flat=True))
    assert kinds[-6:] == [
        EventKind.CANCEL_REASON,
        EventKind.PAUSED,
        EventKind.SAVE_OFFER_ACCEPTED,
        EventKind.UNPAUSED,
        EventKind.CANCEL_REASON,
        EventKind.CANCELLED,
    ]


def test_declining_the_save_offer_is_one_click(live_server, page, axe):
    plan = monthly()
    reader = factories.user("leaving@example.com")
    now = clock.now()
    start = actions.add_months(now, -13) - timedelta(days=2)
    sub = actions.subscribe(reader, plan=plan, card=card(reader, now=start), now=start)
    actions.advance(sub, now=now)
    base = live_server.url
    _sign_in(page, base, "leaving@example.com")
    page.goto(f"{base}/account/subscription/")
    page.locator("summary", has_text="Cancel subscription").click()
    page.get_by_role("button", name="Continue to cancel").click()  # no reason given
    assert "Before you go: A month on us" in page.inner_text("main")
    _no_violations(axe, page)
    page.get_by_role("button", name="No thanks, cancel my subscription").click()
    assert "Your subscription is cancelled" in page.inner_text("main")
    kinds = list(Subscription.objects.get(user=reader).events.values_list("kind", flat=True))
    assert kinds[-3:] == [
        EventKind.CANCEL_REASON,
        EventKind.SAVE_OFFER_DECLINED,
        EventKind.CANCELLED,
    ]
