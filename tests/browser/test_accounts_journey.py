"""A reader signs up, finds their account, logs out everywhere and signs in again, in
Chromium; every account page has zero axe violations and works with JavaScript off."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def test_sign_up_account_page_and_log_out_everywhere(live_server, page, axe, screenshot):
    page.goto(f"{live_server.url}/accounts/signup/")
    _no_violations(axe, page)
    page.get_by_label("Email").fill("browser.reader@example.com")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password (again)", exact=True).fill("a-long-pass-phrase")
    page.get_by_role("button", name="Sign Up").click()

    page.goto(f"{live_server.url}/accounts/")
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    assert "browser.reader@example.com" in page.inner_text("main")
    assert "Not verified yet." in page.inner_text("main")
    assert page.get_by_role("link", name="Your account").is_visible()
    _no_violations(axe, page)
    screenshot(page, "accounts-overview")

    page.get_by_role("button", name="Log out everywhere").click()
    assert page.url == f"{live_server.url}/accounts/login/"
    assert "You are signed out on every browser and app." in page.inner_text("body")
    assert page.get_by_role("link", name="Sign in").is_visible()
    _no_violations(axe, page)


def test_sign_in_works_with_javascript_off(live_server, browser, axe):
    factories.user("nojs@example.com")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("nojs@example.com")
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()
    page.goto(f"{live_server.url}/accounts/")
    assert "nojs@example.com" in page.inner_text("main")
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server.url}/accounts/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    context.close()


def test_failed_sign_in_shows_an_accessible_error(live_server, page, axe):
    factories.user("typo@example.com")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("typo@example.com")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign In").click()
    assert "are not correct" in page.inner_text("main")
    _no_violations(axe, page)
