"""Personal tokens (decision 0031): made and revoked on the account page, the private full-text
feed and the API they open, decided by `access.decide` for the owner at fetch time, never
metered, never shared-cached, rate-limited, counted, and throttled when shared.

Readers: anonymous, registered, trialist, subscriber, lapsed, past due, staff (real accounts;
their entitlement is pinned per account, as in tests/access/test_door_matrix.py). Articles:
free, sponsored, metered, subscribers-only, each with a code word only in its last block.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from django.core.cache import cache

from masthead.access import decision as rules
from masthead.accounts import actions
from masthead.accounts.models import AccountEvent, PersonalToken, PersonalTokenUse
from masthead.core import clock
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.newsroom.fast import eligible
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
READERS = tuple(ENTITLEMENTS)
EVERYTHING = set(KINDS)
FREE = {"free", "sponsored"}
# What each owner's feed carries in full; every other item is its 2-block preview.
FEED_FULL = {
    "registered": FREE,
    "trialist": EVERYTHING,
    "subscriber": EVERYTHING,
    "lapsed": FREE,
    "past due": EVERYTHING,
    "staff": EVERYTHING,
}
# The API detail's (level, reason) with the owner's `api` token: never metered.
API = {
    "registered": {"metered": ("preview", "metered"), "members": ("preview", "subscribers_only")},
    "trialist": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "subscriber": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "lapsed": {
        "metered": ("preview", "lapsed_subscription"),
        "members": ("preview", "lapsed_subscription"),
    },
    "past due": {"metered": ("full", "subscriber"), "members": ("full", "subscriber")},
    "staff": {"metered": ("full", "staff"), "members": ("full", "staff")},
}


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
    return made


def reader(persona: str, monkeypatch):
    """A real account for `persona`, its entitlement pinned."""
    user = factories.user(staff=persona == "staff")
    entitlement = ENTITLEMENTS[persona]
    real = rules.entitlement_for

    def entitlement_for(user_id, *, now):
        return entitlement if user_id == user.pk else real(user_id, now=now)

    monkeypatch.setattr("masthead.access.decision.entitlement_for", entitlement_for)
    return user


def token_for(user, *scopes: str, name: str = "My tools") -> tuple[PersonalToken, str]:
    return actions.issue_personal_token(
        user, name=name, scopes=list(scopes or ("feed",)), now=clock.now()
    )


def feed_items(content: bytes) -> dict[str, str]:
    """title -> description (HTML) of every item of an RSS document."""
    channel = ET.fromstring(content).find("channel")
    assert channel is not None
    return {
        item.findtext("title", ""): item.findtext("description", "")
        for item in channel.findall("item")
    }


def shown_in_full(description: str, kind: str) -> bool:
    """True for the whole body; False for the 2-block preview and the link; fails otherwise."""
    shown = [f"{TITLE[kind]} paragraph {n} of the body." in description for n in range(1, 6)]
    full = all(shown) and CODE[kind] in description
    assert full or (shown == [True, True, False, False, False] and CODE[kind] not in description)
    assert ("Read on the site" in description) == (not full)
    return full


def no_reads_recorded() -> bool:
    return not MeteredRead.objects.exists() and not ReaderMeter.objects.exists()


# -- creating, listing, revoking --------------------------------------------------------------


def test_an_anonymous_reader_is_sent_to_sign_in_and_nothing_is_made(client):
    response = client.post("/accounts/personal-tokens/", {"name": "x", "scopes": ["feed"]})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not PersonalToken.objects.exists()


@pytest.mark.parametrize("persona", READERS)
def test_every_signed_in_reader_creates_a_token_shown_once(persona, client, monkeypatch):
    user = reader(persona, monkeypatch)
    client.force_login(user)
    response = client.post(
        "/accounts/personal-tokens/", {"name": "  Feed   reader ", "scopes": ["feed", "api"]}
    )
    assert response.status_code == 201
    html = response.content.decode()
    raw = re.search(r'id="new-token-value" type="text" readonly value="(mhp_[^"]+)"', html)[1]
    token = PersonalToken.objects.get(user=user)
    assert (token.name, token.feed, token.api) == ("Feed reader", True, True)
    assert raw not in {token.digest, token.prefix} and raw.startswith(token.prefix)
    assert re.search(
        rf'id="new-token-feed" type="text" readonly value="https?://[^"/]+/feeds/private/{raw}/"',
        html,
    )
    assert "no-store" in response["Cache-Control"]
    event = AccountEvent.objects.get(user=user, kind=AccountEvent.Kind.PERSONAL_TOKEN_ISSUED)
    assert event.detail == f"{token} scopes feed api"
    # Shown once: the account page lists it afterwards, never its value.
    page = client.get("/accounts/").content.decode()
    assert "Feed reader" in page and token.prefix in page and raw not in page


def test_bad_input_is_explained_and_makes_nothing(client):
    user = factories.user()
    client.force_login(user)
    for data, message in (
        ({"name": " ", "scopes": ["feed"]}, "Give the token a name"),
        ({"name": "Reader"}, "Choose what the token may do"),
        ({"name": "Reader", "scopes": ["admin"]}, "Choose what the token may do"),
        ({"name": "x" * 61, "scopes": ["api"]}, "60 characters or fewer"),
    ):
        response = client.post("/accounts/personal-tokens/", data)
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not PersonalToken.objects.exists()
    assert client.get("/accounts/personal-tokens/").status_code == 405


def test_a_reader_holds_at_most_the_limit_of_live_tokens(client, settings):
    settings.PERSONAL_TOKEN_LIMIT = 2
    user = factories.user()
    client.force_login(user)
    first, _ = token_for(user)
    token_for(user)
    response = client.post("/accounts/personal-tokens/", {"name": "Third", "scopes": ["feed"]})
    assert response.status_code == 400
    assert "You already have 2 personal tokens" in response.content.decode()
    assert PersonalToken.objects.filter(user=user).count() == 2
    page = client.get("/accounts/").content.decode()
    assert "the most you can have. Revoke one to create another." in page
    assert 'action="/accounts/personal-tokens/"' not in page
    actions.revoke_personal_token(first, now=clock.now())  # a revoked token frees its place
    token_for(user, name="Third")
    assert PersonalToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2


def test_revoking_ends_the_feed_with_a_plain_explanation(client, articles):
    user = factories.user()
    token, raw = token_for(user, "feed", "api")
    assert client.get(f"/feeds/private/{raw}/").status_code == 200
    client.force_login(user)
    response = client.post(f"/accounts/personal-tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    assert client.post(f"/accounts/personal-tokens/{token.pk}/revoke/").status_code == 302
    revoked = AccountEvent.objects.filter(kind=AccountEvent.Kind.PERSONAL_TOKEN_REVOKED)
    assert revoked.count() == 1  # revoking twice changes nothing twice
    client.logout()
    gone = client.get(f"/feeds/private/{raw}/")
    assert gone.status_code == 410
    assert gone["Content-Type"].startswith("text/plain")
    assert "was revoked and no longer works" in gone.content.decode()
    assert "no-store" in gone["Cache-Control"]
    assert TITLE["free"] not in gone.content.decode()
    api = client.get(
        f"/api/v1/articles/{articles['members'].pk}", headers={"Authorization": f"Bearer {raw}"}
    )
    assert api.status_code == 401 and api.json()["error"]["code"] == "unauthorized"


def test_another_readers_token_cannot_be_revoked(client):
    owner, other = factories.user(), factories.user()
    token, _ = token_for(owner)
    client.force_login(other)
    assert client.post(f"/accounts/personal-tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.active


def test_an_unknown_token_is_a_404_and_logging_out_everywhere_ends_tokens(client, articles):
    for raw in ("mhp_" + "A" * 43, "nonsense", "mh_" + "B" * 43):
        response = client.get(f"/feeds/private/{raw}/")
        assert response.status_code == 404
        assert "There is no personal token" in response.content.decode()
    user = factories.user()
    _, raw = token_for(user)
    actions.log_out_everywhere(user, now=clock.now())
    assert client.get(f"/feeds/private/{raw}/").status_code == 410
    event = AccountEvent.objects.get(user=user, kind=AccountEvent.Kind.LOGGED_OUT_EVERYWHERE)
    assert event.detail.endswith("; 1 personal token(s) revoked")


# -- the private feed ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_each_owners_feed_is_cut_by_the_decision_and_spends_no_meter(
    persona, client, monkeypatch, articles
):
    user = reader(persona, monkeypatch)
    _, raw = token_for(user)
    response = client.get(f"/feeds/private/{raw}/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    items = feed_items(response.content)
    assert set(items) == {TITLE[k] for k in KINDS if k != "sponsored"} | {
        "Sponsored content: Sponsored piece"
    }
    full = {
        kind
        for kind in KINDS
        if shown_in_full(
            items["Sponsored content: Sponsored piece" if kind == "sponsored" else TITLE[kind]],
            kind,
        )
    }
    assert full == FEED_FULL[persona]
    assert no_reads_recorded()
    assert "Set-Cookie" not in response or "mh_reader" not in str(response.cookies)


def test_the_feed_is_decided_at_fetch_time(client, monkeypatch, articles):
    user = reader("subscriber", monkeypatch)
    _, raw = token_for(user)
    assert CODE["members"] in unescape(client.get(f"/feeds/private/{raw}/").content.decode())
    lapsed = ENTITLEMENTS["lapsed"]
    monkeypatch.setattr("masthead.access.decision.entitlement_for", lambda user_id, *, now: lapsed)
    after = unescape(client.get(f"/feeds/private/{raw}/").content.decode())
    assert CODE["members"] not in after and CODE["metered"] not in after
    assert CODE["free"] in after


def test_the_feed_never_takes_the_narrow_path_and_is_never_public(client, articles):
    user = factories.user()
    _, raw = token_for(user)
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": f"/feeds/private/{raw}/"}
    assert not eligible(environ)
    assert eligible({"REQUEST_METHOD": "GET", "PATH_INFO": "/feeds/rss/"})
    # Through the site's own WSGI entry point (NarrowPath in front of Django).
    from django.test.client import Client

    wsgi = Client()
    first = wsgi.get(f"/feeds/private/{raw}/")
    second = wsgi.get(f"/feeds/private/{raw}/")
    for response in (first, second):
        assert response.status_code == 200
        assert "public" not in response["Cache-Control"]
        assert "no-store" in response["Cache-Control"]


def test_a_bad_limit_is_a_private_400(client, articles):
    _, raw = token_for(factories.user())
    response = client.get(f"/feeds/private/{raw}/", {"limit": "500"})
    assert response.status_code == 400
    assert "no-store" in response["Cache-Control"]
    limited = client.get(f"/feeds/private/{raw}/", {"limit": "2"})
    assert len(feed_items(limited.content)) == 2


def test_an_api_only_token_does_not_open_the_feed(client, articles):
    _, raw = token_for(factories.user(), "api")
    response = client.get(f"/feeds/private/{raw}/")
    assert response.status_code == 403
    assert "may only be used for the API" in response.content.decode()


# -- the API -------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", READERS)
def test_an_api_token_reads_as_its_owner_without_metering(persona, client, monkeypatch, articles):
    user = reader(persona, monkeypatch)
    _, raw = token_for(user, "api")
    headers = {"Authorization": f"Bearer {raw}"}
    for kind, (level, reason) in API[persona].items():
        response = client.get(f"/api/v1/articles/{articles[kind].pk}", headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert (body["access"]["level"], body["access"]["reason"]) == (level, reason), kind
        assert (CODE[kind] in response.content.decode()) == (level == "full")
        assert "no-store" in response["Cache-Control"]
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200 and me.json()["id"] == user.pk
    assert no_reads_recorded()


def test_a_feed_token_on_the_api_is_a_403_with_a_code(client, articles):
    user = factories.user(staff=True)
    _, raw = token_for(user, "feed")
    headers = {"Authorization": f"Bearer {raw}"}
    for path in (f"/api/v1/articles/{articles['members'].pk}", "/api/v1/me"):
        response = client.get(path, headers=headers)
        assert response.status_code == 403, path
        error = response.json()["error"]
        assert error["code"] == "token_scope"
        assert "may only be used for the private feed" in error["message"]
        assert CODE["members"] not in response.content.decode()
    # The list needs no token (it never carries a body); sent one, it is private all the same.
    listed = client.get("/api/v1/articles", headers=headers)
    assert listed.status_code == 200 and "no-store" in listed["Cache-Control"]
    assert not any(code in listed.content.decode() for code in CODE.values())


def test_signing_out_with_a_personal_token_revokes_it(client, articles):
    token, raw = token_for(factories.user(), "api", "feed")
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/me", headers=headers).status_code == 401


# -- limits, logging, sharing ------------------------------------------------------------


def test_a_token_is_rate_limited_whatever_the_address(client, settings, articles):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "personal_token": "2/600"}
    _, raw = token_for(factories.user(), "feed", "api")
    assert client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="198.51.100.1").status_code == 200
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 200
    refused = client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="198.51.100.1")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 600
    assert "Too many requests with this token: at most 2 every 600 seconds" in (
        refused.content.decode()
    )
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert api.status_code == 429 and api.json()["error"]["code"] == "rate_limited"
    # Another reader's token is counted apart.
    _, other = token_for(factories.user())
    assert client.get(f"/feeds/private/{other}/").status_code == 200


def test_every_fetch_is_counted_once_a_day_with_a_coarse_network(client, articles):
    user = factories.user()
    token, raw = token_for(user)
    for _ in range(3):
        assert client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="203.0.113.77").status_code == 200
    use = PersonalTokenUse.objects.get(token=token)
    assert (use.day, use.fetches) == (clock.now().date(), 3)
    token.refresh_from_db()
    assert token.last_network == "203.0.113.0/24"
    assert token.last_used_at is not None
    client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="2001:db8:aa:bb::1")
    token.refresh_from_db()
    assert token.last_network == "2001:db8:aa::/48"
    client.force_login(user)
    page = client.get("/accounts/").content.decode()
    assert "2001:db8:aa::/48" in page and "2001:db8:aa:bb::1" not in page


def test_a_token_fetched_from_too_many_addresses_is_throttled_and_flagged(
    client, settings, articles
):
    settings.PERSONAL_TOKEN_MAX_ADDRESSES = 2
    user = factories.user()
    token, raw = token_for(user)
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.1"):
        assert client.get(f"/feeds/private/{raw}/", REMOTE_ADDR=address).status_code == 200
    shared = client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="198.51.100.3")
    assert shared.status_code == 429
    assert "used from more than 2 places at once, so it is paused" in shared.content.decode()
    assert int(shared["Retry-After"]) >= 1
    # Throttled for the rest of the window, from any address; flagged once.
    assert client.get(f"/feeds/private/{raw}/", REMOTE_ADDR="198.51.100.1").status_code == 429
    token.refresh_from_db()
    assert token.shared_at is not None
    flags = AccountEvent.objects.filter(user=user, kind=AccountEvent.Kind.PERSONAL_TOKEN_SHARED)
    assert [e.detail for e in flags] == [f"{token} fetched from 3 addresses"]
    client.force_login(user)
    assert "Used from too many places" in client.get("/accounts/").content.decode()
    # The window ends: the token works again (still flagged for its owner to see).
    later = clock.now().timestamp() + settings.PERSONAL_TOKEN_ADDRESS_WINDOW
    from datetime import UTC, datetime

    from masthead.accounts import personal

    admitted = personal.admit(
        raw, scope="feed", address="198.51.100.1", now=datetime.fromtimestamp(later, tz=UTC)
    )
    assert admitted.refusal is None
    if not settings.REDIS_URL:  # the database's sets: only the new window's address is kept
        from masthead.accounts.models import PersonalTokenAddress

        assert PersonalTokenAddress.objects.filter(token=token).count() == 1


def test_forwarded_addresses_count_only_through_a_trusted_proxy(client, settings, articles):
    settings.PERSONAL_TOKEN_MAX_ADDRESSES = 1
    _, raw = token_for(factories.user())
    path = f"/feeds/private/{raw}/"
    # A client that is not our proxy cannot pose as many addresses with X-Forwarded-For.
    for spoofed in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        response = client.get(path, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=spoofed)
        assert response.status_code == 200
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    _, behind = token_for(factories.user())
    path = f"/feeds/private/{behind}/"
    assert client.get(path, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code
    second = client.get(path, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.2")
    assert second.status_code == 429


def test_an_unreachable_redis_lets_fetches_through_unwatched(client, settings, articles):
    """Sharing detection and the rate limit are guards: a Redis that cannot be reached
    (nothing listens on port 1) degrades them, never the feed."""
    from masthead.core import outage

    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.PERSONAL_TOKEN_MAX_ADDRESSES = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "personal_token": "1/600"}
    token, raw = token_for(factories.user())
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        response = client.get(f"/feeds/private/{raw}/", REMOTE_ADDR=address)
        assert response.status_code == 200
        assert TITLE["free"] in response.content.decode()
    assert PersonalTokenUse.objects.get(token=token).fetches == 3
    token.refresh_from_db()
    assert token.shared_at is None
    assert outage.is_down("personal token addresses") and outage.is_down("rate limits")
    outage.reset()
