"""The permission matrix, per door: every door derives what it shows from decide/peek.

Readers: anonymous, registered, trialist, subscriber, lapsed, past due, staff (real accounts;
their entitlement, the subscriptions domain's answer, is pinned per account). Articles: free,
sponsored, metered, subscribers-only, each with a code word only in its last body block.
Doors: article page, print view, API detail, API list, RSS feed, search, section, home, tag and
author listings, sitemap, JSON-LD and meta tags. Each reader gets exact expectations.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache

from masthead.access import decision as rules
from masthead.accounts.actions import issue_app_token
from masthead.core import clock
from masthead.newsroom.models import AccessLevel, Sponsor
from masthead.subscriptions.entitlements import NO_ENTITLEMENT, Entitlement, Lapse
from tests import factories

pytestmark = pytest.mark.django_db

KINDS = ("free", "sponsored", "metered", "members")
CODE = {kind: f"zq{kind}word" for kind in KINDS}
TITLE = {kind: f"{kind.capitalize()} piece" for kind in KINDS}
ENTITLEMENTS = {
    "registered": NO_ENTITLEMENT,
    "trialist": Entitlement(reads_everything=True, status="trialing", plan_name="Monthly"),
    "subscriber": Entitlement(reads_everything=True, status="active", plan_name="Monthly"),
    "lapsed": Entitlement(status="expired", lapsed=Lapse.SUBSCRIPTION),
    "past due": Entitlement(reads_everything=True, status="past_due", plan_name="Monthly"),
    "staff": NO_ENTITLEMENT,
}
PERSONAS = ("anonymous", *ENTITLEMENTS)
EVERYTHING = set(KINDS)
FREE = {"free", "sponsored"}
# What each reader reads in full on the page, the print view and (with a token) the API.
# Anonymous and registered readers read the metered article on their meter's first read.
READS = {
    "anonymous": FREE | {"metered"},
    "registered": FREE | {"metered"},
    "trialist": EVERYTHING,
    "subscriber": EVERYTHING,
    "lapsed": FREE,
    "past due": EVERYTHING,
    "staff": EVERYTHING,
}
# The API detail's (level, reason) per article; an app without a token has no meter.
API = {
    "anonymous": {"metered": ("preview", "metered"), "members": ("preview", "subscribers_only")},
    "registered": {"metered": ("full", "metered"), "members": ("preview", "subscribers_only")},
    "trialist": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "subscriber": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "lapsed": {
        "metered": ("preview", "lapsed_subscription"),
        "members": ("preview", "lapsed_subscription"),
    },
    "past due": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "staff": {"metered": ("full", "staff"), "members": ("full", "staff")},
}
# Whose search matches body text (peek full without counting) per article.
SEARCHES_BODY = {
    "anonymous": FREE,
    "registered": FREE,
    "trialist": EVERYTHING,
    "subscriber": EVERYTHING,
    "lapsed": FREE,
    "past due": EVERYTHING,
    "staff": EVERYTHING,
}
LD_JSON = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


@pytest.fixture(autouse=True)
def cold_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def articles():
    sponsor = Sponsor.objects.create(name="Harbour Bank", disclosure="Commissioned by them.")
    made = {}
    for kind in KINDS:
        body = [
            *factories.paragraphs(5, prefix=f"{TITLE[kind]} paragraph"),
            ("paragraph", f"<p>Coda {CODE[kind]}.</p>"),
        ]
        level = {"free": AccessLevel.FREE, "members": AccessLevel.SUBSCRIBERS}.get(
            kind, AccessLevel.METERED
        )
        extra = {"sponsored": True, "sponsor": sponsor} if kind == "sponsored" else {}
        made[kind] = factories.article(TITLE[kind], access_level=level, body=body, **extra)
        made[kind].tags.add("harbour")
        made[kind].save_revision().publish()
    return made


def as_persona(persona, client, monkeypatch) -> dict[str, str]:
    """Sign `client` in as `persona`; the app headers (a token) for the API."""
    if persona == "anonymous":
        return {}
    user = factories.user(staff=persona == "staff")
    entitlement = ENTITLEMENTS[persona]
    real = rules.entitlement_for

    def entitlement_for(user_id, *, now):
        return entitlement if user_id == user.pk else real(user_id, now=now)

    monkeypatch.setattr("masthead.access.decision.entitlement_for", entitlement_for)
    client.force_login(user)
    _, raw = issue_app_token(user, name="Matrix app", now=clock.now())
    return {"Authorization": f"Bearer {raw}"}


def read_in_full(html: str, kind: str) -> bool:
    """True for the whole body; False for the 2-block preview; fails on anything else."""
    shown = [f"{TITLE[kind]} paragraph {n} of the body." in html for n in range(1, 6)]
    full = all(shown) and CODE[kind] in html
    assert full or (shown == [True, True, False, False, False] and CODE[kind] not in html)
    return full


def no_body_text(html: str) -> bool:
    return not any(f"{TITLE[kind]} paragraph" in html or CODE[kind] in html for kind in KINDS)


def search(client, word: str) -> set[str]:
    html = client.get("/search/", {"q": word}).content.decode()
    titles = set(re.findall(r'class="teaser__headline"><a href="[^"]*">([^<]*)</a>', html))
    return {kind for kind in KINDS if TITLE[kind] in titles}


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_door_shows_this_reader_what_the_decision_allows(
    persona, client, monkeypatch, articles, store
):
    headers = as_persona(persona, client, monkeypatch)

    # Reading doors: the page, then its print view, then the API detail.
    page = {kind: client.get(articles[kind].url).content.decode() for kind in KINDS}
    assert {kind for kind in KINDS if read_in_full(page[kind], kind)} == READS[persona]
    printed = {kind: client.get(f"{articles[kind].url}print/").content.decode() for kind in KINDS}
    assert {kind for kind in KINDS if read_in_full(printed[kind], kind)} == READS[persona]
    detail = {
        kind: client.get(f"/api/v1/articles/{articles[kind].pk}", headers=headers) for kind in KINDS
    }
    access = {kind: detail[kind].json()["access"] for kind in KINDS}
    assert {kind: (access[kind]["level"], access[kind]["reason"]) for kind in KINDS} == {
        "free": ("full", "free_article"),
        "sponsored": ("full", "free_article"),
        **API[persona],
    }
    for kind in KINDS:
        full = access[kind]["level"] == "full"
        assert read_in_full(detail[kind].content.decode(), kind) is full

    # JSON-LD and meta tags: the same for every reader (cached fragments), from peek.
    for kind in KINDS:
        (document,) = LD_JSON.findall(page[kind])
        assert json.loads(document)["isAccessibleForFree"] is (kind in FREE)
        standfirst = f"Standfirst of {TITLE[kind]}."
        assert f'<meta name="description" content="{standfirst}">' in page[kind]
        assert f'<meta property="og:description" content="{standfirst}">' in page[kind]

    # Search: headlines for everyone; body text only where this reader reads in full.
    assert search(client, "piece") == EVERYTHING
    assert {kind for kind in KINDS if search(client, CODE[kind]) == {kind}} == SEARCHES_BODY[
        persona
    ]

    # Lists: every reader sees every headline, never body text.
    author_url = articles["free"].bylines.first().author.url
    for url in ("/", "/world/", "/tags/harbour/", author_url):
        html = client.get(url).content.decode()
        assert all(TITLE[kind] in html for kind in KINDS), url
        assert no_body_text(html), url
    listed = client.get("/api/v1/articles", headers=headers)
    assert {item["id"] for item in listed.json()["items"]} == {a.pk for a in articles.values()}
    assert no_body_text(listed.content.decode())

    # Shared doors are made for nobody in particular: the same bytes for every reader.
    feed = ET.fromstring(client.get("/feeds/rss/").content)
    described = {item.findtext("title"): item.findtext("description") for item in feed.iter("item")}
    carried = {kind for kind in KINDS if CODE[kind] in described[_feed_title(kind)]}
    assert carried == FREE
    for kind in EVERYTHING - FREE:
        assert f"{TITLE[kind]} paragraph" not in described[_feed_title(kind)]
    sitemap = client.get("/sitemap.xml").content.decode()
    assert all(articles[kind].full_url in sitemap for kind in KINDS)


def _feed_title(kind: str) -> str:
    return f"Sponsored content: {TITLE[kind]}" if kind == "sponsored" else TITLE[kind]
