"""`masthead paywall-audit` against a live site: it passes on a site that cuts every door, and
each leak planted over HTTP (a test URLconf rewriting real responses) makes it fail."""

from __future__ import annotations

import html
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from masthead.access.levels import AccessLevel
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.subscriptions import demo as subscription_demo
from tests import factories
from tests.audit import planted

pytestmark = pytest.mark.django_db(transaction=True)

PERSONAS = [
    "fresh anonymous",
    "exhausted anonymous",
    "registered",
    "exhausted registered",
    "trialist",
    "subscriber",
    "lapsed trialist",
    "lapsed subscriber",
    "past due",
    "app client (token)",
    "staff",
    "spoofed crawler",
]
SHORT = "Vault code is 7731."


def body(name: str, extra: list | None = None) -> list:
    return [
        ("paragraph", f"<p>{name} opens with a lead that anyone may read for free.</p>"),
        ("paragraph", f"<p>{name} continues with a second lead paragraph for the preview.</p>"),
        ("subheading", f"{name} turns"),
        ("paragraph", f"<p>Only readers of {name} in full should learn this quiet detail.</p>"),
        ("paragraph", f"<p>The final paragraph of {name} is gated and &amp; stays unseen.</p>"),
        *(extra or []),
    ]


@pytest.fixture
def newsroom():
    articles = {
        name: factories.article(name, body=body(name), tags=["harbours"])
        for name in ("Harbour", "Lanterns", "Granary", "Orchard")
    }
    articles["Vault"] = factories.article(
        "Vault",
        access_level=AccessLevel.SUBSCRIBERS,
        body=body("Vault", [("paragraph", f"<p>{SHORT}</p>")]),
        section_title="Money",
        authors=["Ida Varga"],
    )
    articles["Commons"] = factories.article(
        "Commons", access_level=AccessLevel.FREE, body=body("Commons")
    )
    subscription_demo.load()  # one reader in each subscription state
    return articles


def audit(live_server, *extra):
    call_command("paywall_audit", "--base-url", live_server.url, *extra)


def failing(live_server, capsys, *extra) -> list[str]:
    with pytest.raises(CommandError) as failed:
        audit(live_server, *extra)
    out = capsys.readouterr().out
    assert failed.value.returncode == 1, out
    return [line for line in out.splitlines() if line.startswith("LEAK")]


def gated_html(name: str) -> str:
    return (
        f"<p>Only readers of {name} in full should learn this quiet detail.</p>"
        f"<p>The final paragraph of {name} is gated and &amp; stays unseen.</p>"
    )


def plant(monkeypatch, settings, rewrite) -> None:
    settings.ROOT_URLCONF = "tests.audit.planted"
    monkeypatch.setattr(planted, "PLANTS", [rewrite])


def on(path: str, rewrite):
    def plant_on_path(request, response):
        if request.path == path and request.GET.get("q") is None:
            return rewrite(request, response)
        return None

    return plant_on_path


def into_head(snippet: str):
    def rewrite(request, response):
        response.content = response.content.replace(b"</head>", snippet.encode() + b"</head>", 1)

    return rewrite


def into_body(snippet: str):
    def rewrite(request, response):
        response.content = response.content.replace(b"</body>", snippet.encode() + b"</body>", 1)

    return rewrite


def test_the_audit_passes_on_a_site_that_cuts_every_door(live_server, newsroom, capsys):
    users = get_user_model().objects.count()
    audit(live_server)
    out = capsys.readouterr().out
    assert "Paywall audit passed" in out, out
    assert "LEAK" not in out and "BLIND" not in out
    read = {
        line.split(":", 1)[0].removeprefix("READ "): line
        for line in out.splitlines()
        if line.startswith("READ ")
    }
    assert list(read) == PERSONAS
    for persona, line in read.items():
        for door in (
            "article page",
            "print view",
            "api detail",
            "home",
            "section",
            "tag",
            "author",
            "search",
            "feed",
            "sitemap",
            "openapi",
        ):
            assert f" {door} " in line + " ", (persona, door, line)
    # It cleans up after itself: no audit users, sessions, tokens or meter rows are left.
    assert get_user_model().objects.count() == users
    assert not MeteredRead.objects.exists() and not ReaderMeter.objects.exists()


def test_gated_text_in_a_meta_attribute_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    vault = newsroom["Vault"].url
    text = html.escape(
        " ".join(
            html.unescape(gated_html("Vault")).replace("<p>", " ").replace("</p>", " ").split()
        )
    )
    plant(
        monkeypatch, settings, on(vault, into_head(f'<meta name="description" content="{text}">'))
    )
    leaks = failing(live_server, capsys)
    assert any(line.startswith("LEAK article page as fresh anonymous: Vault") for line in leaks)
    assert not any("as subscriber" in line or "as staff" in line for line in leaks)
