"""A subscriber creates a personal token on the account page, in Chromium at 375 and 1280 px:
shown once with the feed's address, the feed answers with it, revoking ends it; every state
of the page has zero axe violations (screenshots in test-artifacts/)."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


@pytest.mark.parametrize("width", [375, 1280])
def test_creating_and_revoking_a_personal_token(live_server, page, axe, screenshot, width):
    factories.article("Harbour lights")  # the feed has an item to carry
    factories.user(f"tools-{width}@example.com")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(f"tools-{width}@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/accounts/#personal-tokens")
    assert "You have no personal tokens." in page.inner_text("#personal-tokens")
    _no_violations(axe, page)

    # A missing name is explained, and nothing is made.
    page.get_by_label("Name").fill("")
    page.get_by_role("button", name="Create token").click()
    assert "Give the token a name" in page.get_by_role("alert").inner_text()
    _no_violations(axe, page)

    page.get_by_label("Name").fill("Feed reader at home")
    page.get_by_label("The JSON API").check()
    page.get_by_role("button", name="Create token").click()
    raw = page.get_by_label("Token", exact=True).input_value()
    feed_url = page.get_by_label("Your private feed\u2019s address").input_value()
    assert raw.startswith("mhp_") and feed_url.endswith(f"/feeds/private/{raw}/")
    assert "it is shown only once" in page.inner_text("#new-token")
    row = page.get_by_role("row", name="Feed reader at home")
    assert "Feed, API" in row.inner_text()
    _no_violations(axe, page)
    screenshot(page, f"personal-token-created-{width}")

    feed = page.request.get(f"{live_server.url}/feeds/private/{raw}/")
    assert feed.status == 200 and "Harbour lights" in feed.text()
    assert feed.headers["cache-control"] == "private, no-store"

    # Shown once: a fresh look at the page lists the token, never its value.
    page.goto(f"{live_server.url}/accounts/")
    assert raw not in page.content()
    page.get_by_role("button", name="Revoke Feed reader at home").click()
    assert "no longer works" in page.get_by_role("complementary", name="Notices").inner_text()
    assert "You have no personal tokens." in page.inner_text("#personal-tokens")
    _no_violations(axe, page)
    screenshot(page, f"personal-token-revoked-{width}")
    assert page.request.get(f"{live_server.url}/feeds/private/{raw}/").status == 410
