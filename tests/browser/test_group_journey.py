"""A group manager invites a reader by e-mail; the reader accepts and reads a subscribers-only
article in full on their seat, in Chromium, with zero axe violations at 375 and 1280 px.
The screenshots go to docs/groups/ for docs/groups-and-institutions.md."""

from __future__ import annotations

import re
import shutil

import pytest

from masthead.core import clock
from masthead.core.models import OutboxEmail
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.browser.conftest import ROOT
from tests.groups import support

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (375, 1280)
LAST = "The newsdesk kept its own copy of the tide tables."
DOCS = ROOT / "docs" / "groups"


def _no_violations(axe, page) -> None:
    violations = axe(page)
    assert [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations] == []


def _shots(page, axe, screenshot, name: str) -> None:
    DOCS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        _no_violations(axe, page)
        shutil.copy(screenshot(page, f"{name}-{width}"), DOCS / f"{name}-{width}.png")


def _sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-42")
    page.get_by_role("button", name="Sign In").click()


def test_a_manager_invites_a_member_who_accepts_and_reads_in_full(
    live_server, page, browser, axe, screenshot
):
    body = [*factories.paragraphs(3), ("paragraph", f"<p>{LAST}</p>")]
    article = factories.article("Tide tables", access_level=AccessLevel.SUBSCRIBERS, body=body)
    now = clock.now()
    manager = factories.user("editor@newsdesk.example")
    group = support.group(now, seats=3, manager=manager, name="Harbour Desk")
    reader = factories.user("lena@newsdesk.example")

    _sign_in(page, live_server.url, manager.email)
    page.goto(f"{live_server.url}/account/group/")
    assert "1 of 3 seats used" in page.inner_text("main")
    page.get_by_label("E-mail address").fill(reader.email)
    page.get_by_role("button", name="Send invitation").click()
    assert "Invitation sent to lena@newsdesk.example." in page.inner_text("body")
    assert (
        "lena@newsdesk.example"
        in page.get_by_role("region", name="Pending invitations").inner_text()
    )
    _shots(page, axe, screenshot, "manager-invited")

    email = OutboxEmail.objects.get(kind="group_invitation", to=[reader.email])
    path = re.search(r"/groups/invitations/[^\s]+/", email.body).group(0)

    context = browser.new_context()
    member = context.new_page()
    member.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(live_server.url) else route.abort()
        ),
    )
    member.goto(f"{live_server.url}{article.url}")
    assert LAST not in member.inner_text("main")  # before the seat: the paywall
    _sign_in(member, live_server.url, reader.email)
    member.goto(f"{live_server.url}{path}")
    assert "You are invited to a seat in Harbour Desk" in member.inner_text("main")
    _shots(member, axe, screenshot, "invitation")
    member.get_by_role("button", name="Take my seat").click()
    assert "Welcome to Harbour Desk" in member.inner_text("body")
    member.goto(f"{live_server.url}{article.url}")
    text = member.inner_text("main")
    assert LAST in text
    assert "You are reading on your seat in Harbour Desk" in text
    _shots(member, axe, screenshot, "member-reads")
    context.close()

    page.goto(f"{live_server.url}/account/group/")
    text = page.inner_text("main")
    assert "2 of 3 seats used" in text
    row = page.get_by_role("row", name=re.compile("lena@newsdesk.example"))
    assert row.get_by_role("cell").nth(2).inner_text() == "1"  # one read this month
    _shots(page, axe, screenshot, "manager-members")
    assert group.memberships.filter(user=reader, removed_at__isnull=True).exists()
