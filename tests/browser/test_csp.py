"""Chromium under the Content-Security-Policy: home, an article, the paywall, checkout and the
Wagtail admin dashboard (signed in as staff) load with no CSP violation, neither reported on
the console nor as a `securitypolicyviolation` event."""

from __future__ import annotations

import pytest

from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.subscriptions.conftest import make_catalog

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]
PASSWORD = "correct-horse-42"
LISTEN = """() => {
  window.__violations = [];
  document.addEventListener("securitypolicyviolation", (e) => {
    window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
  });
}"""


def test_site_and_admin_pages_load_with_no_csp_violation(live_server, page):
    base = live_server.url
    catalog = make_catalog()
    free = factories.article("Open harbour", access_level=AccessLevel.FREE)
    paid = factories.article("Closed harbour", access_level=AccessLevel.SUBSCRIBERS)
    factories.user("csp.staff@example.com", staff=True, password=PASSWORD)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.add_init_script(f"({LISTEN})()")

    def visit(path: str) -> list[str]:
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status < 400, (path, response and response.status)
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        page.wait_for_load_state("networkidle")
        return page.evaluate("() => window.__violations")

    seen = {
        "home": visit("/"),
        "article": visit(free.url),
        "paywall": visit(paid.url),
        "print view": visit(f"{free.url}print/"),
    }
    assert page.locator(".print-button").is_visible()  # its external script ran
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "csp.staff@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").first.click()
    page.wait_for_url(f"{base}/admin/")
    seen["admin dashboard"] = visit("/admin/")
    seen["admin pages"] = visit("/admin/pages/")
    seen["checkout"] = visit(f"/checkout/offer/{catalog.one_month.code}/")
    assert page.get_by_label("Card number").is_visible()
    assert {name: found for name, found in seen.items() if found} == {}
    csp_console = [line for line in console if "Content Security Policy" in line]
    assert csp_console == []
