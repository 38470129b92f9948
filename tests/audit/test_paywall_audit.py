"""`masthead paywall-audit` against a live site: it passes on a site that cuts every door, and
each leak planted over HTTP (a test URLconf rewriting real responses) makes it fail."""

from __future__ import annotations

import html
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpResponseForbidden, HttpResponseServerError
from wagtail.models import PageViewRestriction

from masthead.access.decision import Decision, Level, Reason
from masthead.access.levels import AccessLevel
from masthead.accounts import personal
from masthead.accounts.models import AccountEvent, PersonalToken
from masthead.audit.models import AuditRun
from masthead.giftsubs import demo as giftsubs_demo
from masthead.groups import demo as groups_demo
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.metering.stores import RedisMeterStore, get_store
from masthead.subscriptions import demo as subscription_demo
from masthead.subscriptions.models import Subscription
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
    "paused",
    "gift recipient",
    "gift ended",
    "app client (token)",
    "staff",
    "spoofed crawler",
    "unidentified bot",
    "training crawler",
    "personal feed (lapsed subscriber)",
    "personal token (api, lapsed subscriber)",
    "personal feed (revoked)",
    "personal token (feed scope) on the api",
    "group member",
    "removed member",
    "institution member by domain",
    "unverified institutional address",
    "outsider",
    "institution address, untrusted peer",
]
# Personas that read one kind of door only (the API, or their own private feed).
NARROW = {p for p in PERSONAS if p.startswith(("app client", "personal "))}
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
        name: factories.article(name, body=body(name))
        for name in ("Harbour", "Lanterns", "Granary", "Orchard")
    }
    harbour = articles["Harbour"]
    harbour.tags.add("harbours")
    harbour.save_revision().publish()
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
    giftsubs_demo.load()  # a gift recipient and a reader whose gift ended
    groups_demo.load()  # a group with a member and a removed member, an institution
    return articles


def audit(live_server, *extra):
    call_command("paywall_audit", "--base-url", live_server.url, *extra)


# Planted-leak runs read as fewer personas, to keep each test short.
SOME = ["fresh anonymous", "exhausted registered", "subscriber", "staff"]


def failing(live_server, capsys, *extra, personas=SOME) -> list[str]:
    chosen = [arg for name in personas for arg in ("--persona", name)]
    with pytest.raises(CommandError) as failed:
        audit(live_server, *chosen, *extra)
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


def redis_meter_keys() -> set[bytes]:
    store = get_store()
    if not isinstance(store, RedisMeterStore):
        return set()
    return set(store.client.scan_iter(match=f"{store.prefix}:meter:*"))


def test_the_audit_passes_on_a_site_that_cuts_every_door(live_server, newsroom, capsys):
    users = get_user_model().objects.count()
    meter_keys = redis_meter_keys()
    audit(live_server)
    out = capsys.readouterr().out
    assert "Paywall audit passed" in out, out
    assert "LEAK" not in out and "BLIND" not in out
    # The summary is kept for the operator's view (docs/insights.md).
    run = AuditRun.objects.get()
    assert (run.passed, run.leaks, run.blind, run.base_url) == (True, 0, 0, live_server.url)
    assert f"Paywall audit passed: {run.summary}" in out
    read = {
        line.split(":", 1)[0].removeprefix("READ "): line
        for line in out.splitlines()
        if line.startswith("READ ")
    }
    assert list(read) == PERSONAS
    assert read["app client (token)"].startswith("READ app client (token): api 3, api detail 6,")
    assert read["personal feed (lapsed subscriber)"].startswith(
        "READ personal feed (lapsed subscriber): personal feed 1"
    )
    assert read["personal feed (revoked)"].startswith(
        "READ personal feed (revoked): personal feed 1"
    )
    for persona in (
        "personal token (api, lapsed subscriber)",
        "personal token (feed scope) on the api",
    ):
        assert read[persona].startswith(f"READ {persona}: api 3, api detail 6"), read[persona]
    for persona, line in read.items():
        if persona in NARROW:
            continue  # these read the API, or their own feed, only
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
    assert not PersonalToken.objects.exists()
    assert not AccountEvent.objects.filter(kind__startswith="personal_token").exists()
    assert list(MeteredRead.objects.values_list("reader_key", flat=True)) == []
    assert not ReaderMeter.objects.exists()
    assert redis_meter_keys() == meter_keys


PLAIN = (
    "Only readers of Vault in full should learn this quiet detail. "
    "The final paragraph of Vault is gated and & stays unseen."
)


def only_gated_readers(leaks: list[str], door: str, article: str = "Vault") -> None:
    """The planted text is found at `door` by every reader it is gated for, and only them."""
    prefix = f"LEAK {door} as "
    assert any(line.startswith(prefix + "fresh anonymous: " + article) for line in leaks), leaks
    assert any(line.startswith(prefix + "exhausted registered: " + article) for line in leaks)
    assert not any(" as subscriber: " in line or " as staff: " in line for line in leaks)


def test_gated_text_in_a_meta_attribute_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    snippet = f'<meta name="description" content="{html.escape(PLAIN)}">'
    plant(monkeypatch, settings, on(newsroom["Vault"].url, into_head(snippet)))
    only_gated_readers(failing(live_server, capsys), "article page")


def test_gated_text_in_an_html_comment_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    plant(monkeypatch, settings, on(newsroom["Vault"].url, into_body(f"<!-- {PLAIN} -->")))
    only_gated_readers(failing(live_server, capsys), "article page")


def test_gated_text_in_a_data_attribute_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    snippet = f"<div data-article-body='{html.escape(gated_html('Vault'))}'></div>"
    plant(monkeypatch, settings, on(newsroom["Vault"].url, into_body(snippet)))
    only_gated_readers(failing(live_server, capsys), "article page")


def test_gated_text_in_a_json_string_with_unicode_escapes_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    escaped = "".join(f"\\u{ord(char):04x}" for char in gated_html("Vault"))
    snippet = f'<script type="application/ld+json">{{"articleBody": "{escaped}"}}</script>'
    assert "quiet" not in snippet
    plant(monkeypatch, settings, on(newsroom["Vault"].url, into_head(snippet)))
    only_gated_readers(failing(live_server, capsys), "article page")


def test_gated_text_in_a_402_body_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    def refuse_with_the_body(request, response):
        if response.status_code == 200 and b'id="paywall"' in response.content:
            response.status_code = 402
            response.content = response.content.replace(
                b"</body>", gated_html("Vault").encode() + b"</body>", 1
            )

    plant(monkeypatch, settings, on(newsroom["Vault"].url, refuse_with_the_body))
    leaks = failing(live_server, capsys)
    only_gated_readers(leaks, "article page")
    assert any(", 402) shows" in line for line in leaks)


def test_gated_text_in_a_403_body_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    def forbidden(request, response):
        return HttpResponseForbidden(f"<p>Forbidden.</p><!-- {PLAIN} -->")

    plant(monkeypatch, settings, on("/forbidden/", forbidden))
    leaks = failing(live_server, capsys, "--door", "/forbidden/")
    only_gated_readers(leaks, "door /forbidden/")
    assert any(", 403) shows" in line for line in leaks)


def test_gated_text_on_a_listing_page_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    section = newsroom["Vault"].get_parent().url
    plant(monkeypatch, settings, on(section, into_body(gated_html("Vault"))))
    only_gated_readers(failing(live_server, capsys), "section")


def test_the_feed_of_a_private_page_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    hidden = factories.article(
        "Hidden", access_level=AccessLevel.FREE, body=body("Hidden"), section_title="Money"
    )
    PageViewRestriction.objects.create(
        page=hidden, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    def carry_the_private_body(request, response):
        if request.path.startswith("/feeds/"):
            item = html.escape(gated_html("Hidden"))
            response.content = response.content.replace(
                b"</channel>", f"<item><description>{item}</description></item></channel>".encode()
            ).replace(
                b"</feed>", f'<entry><summary type="html">{item}</summary></entry></feed>'.encode()
            )

    plant(monkeypatch, settings, carry_the_private_body)
    leaks = failing(live_server, capsys)
    for persona in SOME:  # nobody in the audit knows the password, staff included
        assert any(line.startswith(f"LEAK feed as {persona}: Hidden") for line in leaks), persona


def test_gated_html_in_the_api_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    vault = newsroom["Vault"]

    def whole_body_as_html(request, response):
        if request.path.rstrip("/") == f"/api/v1/articles/{vault.pk}":
            document = json.loads(response.content)
            document["body_html"] = gated_html("Vault")
            response.content = json.dumps(document).encode()

    plant(monkeypatch, settings, whole_body_as_html)
    personas = [*SOME, "app client (token)"]
    leaks = failing(live_server, capsys, personas=personas)
    only_gated_readers(leaks, "api detail")
    assert any(line.startswith("LEAK api detail as app client (token): Vault") for line in leaks)


def test_a_short_gated_sentence_fails_the_audit(
    live_server, newsroom, monkeypatch, settings, capsys
):
    assert len(SHORT.split()) < 6  # shorter than any sentence the old audit looked at
    snippet = f'<meta property="og:description" content="{SHORT}">'
    plant(monkeypatch, settings, on("/", into_head(snippet)))
    leaks = failing(live_server, capsys)
    assert any(
        line.startswith("LEAK home as fresh anonymous: Vault") and "vault code is 7731" in line
        for line in leaks
    ), leaks
    assert not any(" as subscriber: " in line or " as staff: " in line for line in leaks)


def test_a_door_that_skips_the_decision_fails_the_audit(live_server, newsroom, settings, capsys):
    settings.ROOT_URLCONF = "tests.audit.leaky_urls"
    leaks = failing(live_server, capsys, "--door", "/amp/{id}/")
    leaks = [line for line in leaks if line.startswith("LEAK door /amp/{id}/")]
    assert any("as fresh anonymous: Vault" in line for line in leaks)
    assert any("as exhausted registered: Orchard" in line for line in leaks)
    assert not any(": Commons" in line or " as staff" in line for line in leaks)


def test_an_article_page_that_sends_the_whole_body_fails_the_audit(
    live_server, newsroom, monkeypatch, capsys
):
    monkeypatch.setattr(
        "masthead.newsroom.article_view.visible_blocks",
        lambda article, decision: list(article.body),
    )
    leaks = failing(live_server, capsys)
    assert any(line.startswith("LEAK article page as exhausted registered") for line in leaks)
    assert any(line.startswith("LEAK print view as fresh anonymous: Vault") for line in leaks)


def test_a_server_error_is_a_blind_spot(live_server, newsroom, monkeypatch, settings, capsys):
    def broken(request, response):
        return HttpResponseServerError("<p>Something went wrong.</p>")

    plant(monkeypatch, settings, on(newsroom["Harbour"].get_parent().url, broken))
    with pytest.raises(CommandError) as failed:
        audit(live_server, "--persona", "staff")
    out = capsys.readouterr().out
    assert failed.value.returncode == 1
    assert f"BLIND {newsroom['Harbour'].get_parent().url} answered 500 to staff" in out


def test_a_missing_reader_state_is_a_blind_spot(live_server, newsroom, capsys):
    get_user_model().objects.filter(email="past-due@example.com").update(
        email="someone-else@example.com"
    )
    Subscription.objects.filter(status="past_due").update(status="active")
    with pytest.raises(CommandError):
        audit(live_server, "--persona", "past due", "--persona", "staff")
    assert "BLIND no reader is a past due" in capsys.readouterr().out


def test_an_unreachable_site_is_an_error_not_a_traceback():
    with pytest.raises(CommandError) as failed:
        call_command("paywall_audit", "--base-url", "http://127.0.0.1:9", "--timeout", "0.5")
    assert failed.value.returncode == 2
    assert "Is the site running?" in str(failed.value)
    assert not AuditRun.objects.exists()  # nothing was audited


PERSONAL = [
    "personal feed (lapsed subscriber)",
    "personal token (api, lapsed subscriber)",
    "personal feed (revoked)",
    "personal token (feed scope) on the api",
    "group member",
    "removed member",
    "institution member by domain",
    "unverified institutional address",
    "outsider",
    "institution address, untrusted peer",
]


def test_a_private_feed_that_ignores_the_decision_fails_the_audit(
    live_server, newsroom, monkeypatch, capsys
):
    monkeypatch.setattr(
        "masthead.newsroom.feeds.peek_for",
        lambda reader, article, screen=None: Decision(Level.FULL, Reason.SUBSCRIBER),
    )
    leaks = failing(live_server, capsys, personas=PERSONAL[:1])
    for article in ("Vault", "Orchard"):  # subscribers-only and metered: previews when lapsed
        assert any(
            line.startswith(f"LEAK personal feed as personal feed (lapsed subscriber): {article}")
            for line in leaks
        ), leaks
    assert not any(": Commons" in line for line in leaks)  # free: theirs in full anyway


def test_a_revoked_or_wrongly_scoped_token_that_still_works_fails_the_audit(
    live_server, newsroom, monkeypatch, capsys
):
    real = personal.admit

    def forgetful(raw, *, scope, address, now):
        token = personal.find(raw)
        if token is not None:  # revoked or not, whatever its scope: let it in
            return personal.Admission(token)
        return real(raw, scope=scope, address=address, now=now)

    monkeypatch.setattr("masthead.accounts.personal.admit", forgetful)
    leaks = failing(live_server, capsys, personas=PERSONAL[2:])
    assert any(
        line.startswith("LEAK personal feed as personal feed (revoked): Vault") for line in leaks
    ), leaks
    assert any(
        line.startswith("LEAK api detail as personal token (feed scope) on the api: Vault")
        for line in leaks
    ), leaks


def test_a_gift_that_ended_reads_nothing_more_and_a_planted_leak_shows_as_it(
    live_server, newsroom, monkeypatch, settings, capsys
):
    """Gift subscriptions (decision 0037): the reader whose gift ended is a lapsed reader at
    every door; gated text planted into the page is a leak as them, never as the recipient
    whose gift still runs (they read it in full anyway)."""
    plant(monkeypatch, settings, on(newsroom["Vault"].url, into_body(f"<!-- {PLAIN} -->")))
    leaks = failing(live_server, capsys, personas=["gift recipient", "gift ended"])
    assert any(line.startswith("LEAK article page as gift ended: Vault") for line in leaks), leaks
    assert not any(" as gift recipient: " in line for line in leaks), leaks


def test_a_door_that_treats_a_paused_reader_as_a_subscriber_fails_the_audit(
    live_server, newsroom, monkeypatch, capsys
):
    """Retention (decision 0035): a paused subscriber reads previews only. An article page
    that sends the whole body to them (as if they were still subscribed) is a leak as them,
    and only as them."""
    from masthead.access.decision import Reason
    from masthead.newsroom import article_view

    cut = article_view.visible_blocks

    def treats_paused_as_subscriber(article, decision):
        if decision.reason is Reason.PAUSED:
            return list(article.body)
        return cut(article, decision)

    monkeypatch.setattr(article_view, "visible_blocks", treats_paused_as_subscriber)
    leaks = failing(live_server, capsys, personas=["paused", "subscriber", "lapsed subscriber"])
    assert any(line.startswith("LEAK article page as paused: Vault") for line in leaks), leaks
    assert not any(" as subscriber: " in line for line in leaks), leaks
    assert not any(" as lapsed subscriber: " in line for line in leaks), leaks
