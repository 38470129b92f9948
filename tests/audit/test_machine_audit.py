"""The paywall audit reads as machines (docs/machines.md): an unidentified script and an AI
training crawler get the preview of gated articles, and a door that gives either the full
text fails the audit."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from masthead.metering.models import MeterPolicy
from masthead.newsroom.models import ArticlePage
from tests.audit.test_paywall_audit import (  # noqa: F401
    audit,
    body,
    failing,
    gated_html,
    newsroom,
    plant,
)

pytestmark = pytest.mark.django_db(transaction=True)

MACHINES = ["unidentified bot", "training crawler", "spoofed crawler"]


def test_the_audit_reads_as_machines_and_passes(live_server, newsroom, capsys):  # noqa: F811
    audit(live_server, *[arg for name in MACHINES for arg in ("--persona", name)])
    out = capsys.readouterr().out
    assert "LEAK" not in out and "BLIND" not in out, out
    for name in MACHINES:
        assert name in out, out


def to_machines(request, response):
    """A planted bug: the article page gives automated clients the whole text (as a door
    that forgot the machine rule, or served them a cached full page, would)."""
    agent = request.META.get("HTTP_USER_AGENT", "")
    if not any(token in agent for token in ("python-requests", "GPTBot")):
        return None
    for page in ArticlePage.objects.live():
        if request.path == urlparse(page.get_url() or "").path:
            response.content = response.content.replace(
                b"</body>", gated_html(page.title).encode() + b"</body>", 1
            )
    return None


def test_a_door_that_gives_a_bot_the_full_text_fails_the_audit(
    live_server,
    newsroom,  # noqa: F811
    capsys,
    monkeypatch,
    settings,
):
    plant(monkeypatch, settings, to_machines)
    leaks = failing(live_server, capsys, personas=["unidentified bot", "training crawler"])
    personas = {line.split(" as ")[1].split(":")[0] for line in leaks}
    assert personas == {"unidentified bot", "training crawler"}
    doors = {line.split(" as ")[0].removeprefix("LEAK ") for line in leaks}
    # The article page, and its gift links: a gift opens nothing to a machine.
    assert "article page" in doors
    assert doors - {"article page"} <= {f"gift ({kind})" for kind in GIFT_KINDS}


GIFT_KINDS = ("valid", "another article", "expired", "revoked")


def test_a_training_crawler_the_policy_allows_reads_as_a_signed_out_reader(
    live_server,
    newsroom,  # noqa: F811
    capsys,
    monkeypatch,
    settings,
):
    """With ai-train allowed the crawler is read like a fresh reader: the same planted page
    is then no leak for it, and still one for the unidentified script."""
    policy = MeterPolicy.objects.first() or MeterPolicy()
    policy.allow_ai_train = True
    policy.save()
    plant(monkeypatch, settings, to_machines)
    leaks = failing(live_server, capsys, personas=["unidentified bot", "training crawler"])
    personas = {line.split(" as ")[1].split(":")[0] for line in leaks}
    assert "unidentified bot" in personas
    # A fresh reader reads a metered article in full: what the plant adds is no leak there;
    # only the subscribers-only article's gated text is.
    crawler = [line for line in leaks if " as training crawler: " in line]
    assert all("as training crawler: Vault" in line for line in crawler), crawler
