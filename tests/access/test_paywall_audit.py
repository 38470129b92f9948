"""`masthead paywall-audit` against a live site: clean passes, a planted leak fails."""

import pytest
from django.core.management import CommandError, call_command

from masthead.newsroom.models import AccessLevel
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def newsroom():
    body = lambda name: [  # noqa: E731
        ("paragraph", f"<p>{name} opens with a lead that anyone may read for free.</p>"),
        ("paragraph", f"<p>{name} continues with a second lead paragraph for the preview.</p>"),
        ("subheading", f"{name} turns"),
        ("paragraph", f"<p>Only readers of {name} in full should learn this quiet detail.</p>"),
        ("paragraph", f"<p>The final paragraph of {name} is gated and &amp; stays unseen.</p>"),
    ]
    return [
        factories.article("Harbour", body=body("Harbour")),
        factories.article("Lanterns", body=body("Lanterns")),
        factories.article("Granary", body=body("Granary")),
        factories.article("Orchard", body=body("Orchard")),
        factories.article("Vault", access_level=AccessLevel.SUBSCRIBERS, body=body("Vault")),
        factories.article("Commons", access_level=AccessLevel.FREE, body=body("Commons")),
    ]


def audit(live_server, *extra):
    call_command("paywall_audit", "--base-url", live_server.url, *extra)


def test_the_audit_passes_on_a_site_that_cuts_every_door(live_server, newsroom, capsys):
    audit(live_server)
    out = capsys.readouterr().out
    assert "Paywall audit passed" in out
    assert "article page" in out and "print view" in out and "feed" in out
    assert "LEAK" not in out


def test_the_audit_fails_on_a_door_that_skips_the_decision(live_server, newsroom, settings, capsys):
    settings.ROOT_URLCONF = "tests.access.leaky_urls"
    with pytest.raises(CommandError) as failed:
        audit(live_server, "--door", "/amp/{id}/")
    out = capsys.readouterr().out
    assert failed.value.returncode == 1
    leaks = [line for line in out.splitlines() if line.startswith("LEAK door /amp/{id}/")]
    assert any("as fresh anonymous reader: Vault" in line for line in leaks)
    assert any("as exhausted anonymous reader: Orchard" in line for line in leaks)
    assert any("as spoofed Googlebot" in line for line in leaks)
    assert not any("as editor" in line for line in out.splitlines())
    assert not any(": Commons" in line for line in leaks)


def test_the_audit_fails_when_the_article_page_sends_the_whole_body(
    live_server, newsroom, monkeypatch, capsys
):
    monkeypatch.setattr(
        "masthead.newsroom.article_view.visible_blocks",
        lambda article, decision: list(article.body),
    )
    with pytest.raises(CommandError):
        audit(live_server)
    leaks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("LEAK")]
    assert any(
        line.startswith("LEAK article page as exhausted registered reader") for line in leaks
    )
    assert any("Vault" in line for line in leaks)


def test_an_unreachable_site_is_an_error_not_a_traceback():
    with pytest.raises(CommandError) as failed:
        call_command("paywall_audit", "--base-url", "http://127.0.0.1:9", "--timeout", "0.5")
    assert failed.value.returncode == 2
    assert "Is the site running?" in str(failed.value)
