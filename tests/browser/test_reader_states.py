"""Every reader state in Chromium at 375 and 1280 px: what the reader sees, a screenshot of
each under test-artifacts/, and axe-core on each; then the journey offer -> sign-up ->
checkout -> back to the article."""

from __future__ import annotations

from datetime import timedelta

import pytest

from masthead.access.models import Campaign
from masthead.core import clock
from masthead.subscriptions import demo as subscription_demo
from tests import factories
from tests.metering.support import save_policy

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

PASSWORD = subscription_demo.DEMO_PASSWORD
WIDTHS = [375, 1280]


def newsroom() -> list:
    return [
        factories.article(
            f"Dispatch {n}",
            body=factories.paragraphs(9, prefix=f"Dispatch {n} sentence"),
        )
        for n in range(1, 6)
    ]


def sign_in(page, base: str, email: str, next_path: str) -> None:
    page.goto(f"{base}/accounts/login/?next={next_path}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}{next_path}")


def shoot(page, screenshot, accessibility, name: str, width: int) -> None:
    screenshot(page, f"state-{name}-{width}")
    accessibility.check(page, f"{name}@{width}")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_reader_state(live_server, browser, screenshot, accessibility, width):
    base = live_server.url
    articles = newsroom()
    subscription_demo.load()
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    expected = [
        ("fresh", "You have 2 free articles left this month"),
        ("mid-meter", "You have 1 free article left this month"),
        ("last-free", "This is your last free article this month"),
    ]
    for article, (name, message) in zip(articles, expected, strict=False):
        page.goto(f"{base}{article.url}")
        assert page.locator(".meter-message").inner_text() == message
        offer = page.locator(".meter__offer a")
        assert offer.inner_text() == "Try 1 month for $0.99"
        assert offer.get_attribute("href") == f"/checkout/offer/one-month/?next={article.url}"
        if name == "last-free":
            assert "After this one" in page.locator(".meter__next").inner_text()
        shoot(page, screenshot, accessibility, name, width)
    page.goto(f"{base}{articles[3].url}")
    paywall = page.locator("#paywall")
    assert paywall.get_by_role("heading", name="Subscribe to keep reading").is_visible()
    assert "You have read all 3 free articles this month" in paywall.inner_text()
    assert paywall.locator(".offer-card").count() == 3
    assert paywall.locator(".offer-card .button").count() == 3
    assert paywall.get_by_role("link", name="Sign in").get_attribute("href") == (
        f"/accounts/login/?next={articles[3].url}"
    )
    assert f"Dispatch 4 sentence {9} of the body" not in page.content()
    box = paywall.bounding_box()
    assert box is not None and box["width"] <= width
    shoot(page, screenshot, accessibility, "exhausted", width)

    save_policy(registration_wall=True, anonymous_allowance=3, registered_allowance=6)
    page.goto(f"{base}{articles[4].url}")
    wall = page.locator("#paywall")
    assert wall.get_by_role("heading", name="Register for free to keep reading").is_visible()
    assert wall.get_by_role("link", name="Register for free").is_visible()
    shoot(page, screenshot, accessibility, "registration-wall", width)
    save_policy(registration_wall=False)

    readers = [
        ("trialist", "trialist@example.com", None),
        ("subscriber", "subscriber@example.com", None),
        ("lapsed-trialist", "lapsed-trialist@example.com", "Your trial period has expired"),
        (
            "lapsed-subscriber",
            "lapsed-subscriber@example.com",
            "Your full access to The Meridian Review has expired",
        ),
        ("past-due", "past-due@example.com", None),
    ]
    for name, email, lapsed in readers:
        context.clear_cookies()
        sign_in(page, base, email, articles[4].url)
        if lapsed:
            assert lapsed in page.locator("#paywall").inner_text()
            assert page.locator(".offer-card").count() >= 1
        else:
            assert page.locator("#paywall").count() == 0
            assert "Dispatch 5 sentence 9 of the body" in page.content()
        assert page.get_by_role("button", name="Sign out").is_visible()
        shoot(page, screenshot, accessibility, name, width)

    context.clear_cookies()
    now = clock.now()
    Campaign.objects.create(
        name="Relaunch day",
        banner_text="Free access for everyone today",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=23),
    )
    from masthead.access.campaigns import forget_campaigns

    forget_campaigns()
    page.goto(f"{base}{articles[3].url}")
    banner = page.locator(".campaign-banner")
    assert "Free access for everyone today" in banner.inner_text()
    assert page.locator("#paywall").count() == 0
    shoot(page, screenshot, accessibility, "campaign-day", width)
    banner.get_by_role("link", name="Find out more").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Free access for everyone today"
    shoot(page, screenshot, accessibility, "campaign-page", width)
    context.close()
    accessibility.verdict()


def test_offer_sign_up_checkout_and_back_to_the_article(
    live_server, page, screenshot, accessibility
):
    base = live_server.url
    articles = newsroom()
    subscription_demo.load()
    for article in articles[:4]:
        page.goto(f"{base}{article.url}")
    target = articles[3]
    page.locator("#paywall .offer-card").first.get_by_role("link").click()
    assert "/accounts/login/" in page.url
    assert "Your offer" in page.locator(".auth__aside").text_content()
    accessibility.check(page, "sign-in")
    screenshot(page, "journey-sign-in")
    page.get_by_role("link", name="Create a free account").click()
    assert "Try 1 month for $0.99" in page.locator(".auth__aside").inner_text()
    accessibility.check(page, "sign-up")
    screenshot(page, "journey-sign-up")
    page.fill("input[name=email]", "new-reader@example.com")
    page.fill("input[name=password1]", "a-long-passphrase-42")
    page.fill("input[name=password2]", "a-long-passphrase-42")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(f"{base}/checkout/offer/one-month/?next={target.url}")
    assert "Cancel any time before" in page.content()
    accessibility.check(page, "checkout")
    screenshot(page, "journey-checkout")
    page.fill("input[name=number]", "4242 4242 4242 4242")
    page.fill("input[name=expiry]", "12/34")
    page.fill("input[name=cvc]", "123")
    page.get_by_label("I agree to these terms").check()
    page.get_by_role("button", name="Pay $0.99 and subscribe").click()
    page.wait_for_url(f"{base}{target.url}")
    welcome = page.locator(".site-message", has_text="Continue reading below.")
    assert welcome.inner_text() == (
        "Welcome! You now have full access to The Meridian Review. Continue reading below."
    )
    assert "Dispatch 4 sentence 9 of the body" in page.content()
    assert page.locator("#paywall").count() == 0
    accessibility.check(page, "back-on-the-article")
    screenshot(page, "journey-continue-reading")
    for name, path in [
        ("account", "/accounts/"),
        ("subscription", "/account/subscription/"),
        ("offers", "/offers/"),
        ("404", "/no-such-page/"),
    ]:
        page.goto(f"{base}{path}")
        accessibility.check(page, name)
        screenshot(page, f"journey-{name}")
    accessibility.verdict()
