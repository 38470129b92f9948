"""Machines in the one decision (Reason.AUTOMATED, docs/machines.md): what each kind of client
gets on each kind of article under each policy, over every door."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from masthead.access import doors
from masthead.access.decision import Level, Reason, decide
from masthead.access.levels import AccessLevel
from masthead.metering import crawlers
from masthead.metering.identity import ReaderIdentity
from masthead.metering.machines import MachineKind
from masthead.metering.models import MeteredRead, ReaderMeter
from masthead.metering.stores import DatabaseMeterStore
from tests import factories
from tests.access.support import PRINCIPALS, install_entitlements
from tests.metering.support import SEPT_15, save_policy

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
REQUESTS = "python-requests/2.32.3"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
GPTBOT = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2"
CHATGPT_USER = "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0"
GOOGLE_ADDRESS = "66.249.66.1"


def machine(kind: MachineKind) -> ReaderIdentity:
    return ReaderIdentity(user_id=None, anonymous_id="b" * 32, machine=kind, fresh=True)


@pytest.fixture
def articles():
    return {
        "free": factories.article(access_level=AccessLevel.FREE, body=body("Free")),
        "metered": factories.article(access_level=AccessLevel.METERED, body=body("Metered")),
        "subscribers": factories.article(
            access_level=AccessLevel.SUBSCRIBERS, body=body("Members")
        ),
    }


def body(title: str) -> list:
    return factories.paragraphs(6, prefix=f"{title} sentence")


@pytest.fixture
def resolver(monkeypatch):
    class Resolver:
        def reverse(self, address):
            return "crawl-66-249-66-1.googlebot.com" if address == GOOGLE_ADDRESS else None

        def forward(self, host):
            return {GOOGLE_ADDRESS} if host == "crawl-66-249-66-1.googlebot.com" else set()

    monkeypatch.setattr(crawlers, "resolver", Resolver())


# -- the decision ----------------------------------------------------------------------------

F, P = Level.FULL, Level.PREVIEW
A = (P, Reason.AUTOMATED)


@pytest.mark.parametrize(
    ("kind", "policy", "expected"),
    [
        # An unidentified client: never more than the preview, whatever the policy.
        (MachineKind.AUTOMATED, {}, {"metered": A, "subscribers": A}),
        (
            MachineKind.AUTOMATED,
            {"allow_ai_input": True, "allow_ai_train": True, "crawlers_read_in_full": True},
            {"metered": A, "subscribers": A},
        ),
        # A training crawler: the preview unless ai-train is allowed; then a signed-out
        # reader's reading (a fresh reader's first metered article), never more.
        (MachineKind.TRAINING, {}, {"metered": A, "subscribers": A}),
        (
            MachineKind.TRAINING,
            {"allow_ai_train": True},
            {"metered": (F, Reason.METERED), "subscribers": (P, Reason.SUBSCRIBERS_ONLY)},
        ),
        (MachineKind.ANSWER, {"allow_ai_train": True}, {"metered": A, "subscribers": A}),
        (
            MachineKind.ANSWER,
            {"allow_ai_input": True},
            {"metered": (F, Reason.METERED), "subscribers": (P, Reason.SUBSCRIBERS_ONLY)},
        ),
        # Verified search crawlers: flexible sampling when search is allowed...
        (
            MachineKind.VERIFIED_SEARCH,
            {"crawlers_read_in_full": True},
            {"metered": (F, Reason.VERIFIED_CRAWLER), "subscribers": (F, Reason.VERIFIED_CRAWLER)},
        ),
        (
            MachineKind.VERIFIED_SEARCH,
            {},
            {"metered": (F, Reason.METERED), "subscribers": (P, Reason.SUBSCRIBERS_ONLY)},
        ),
        # ... and the preview when it is not, sampling or not.
        (
            MachineKind.VERIFIED_SEARCH,
            {"allow_search": False, "crawlers_read_in_full": True},
            {"metered": A, "subscribers": A},
        ),
        (MachineKind.SEARCH, {"allow_search": False}, {"metered": A, "subscribers": A}),
        (
            MachineKind.SEARCH,
            {"crawlers_read_in_full": True},  # declared, not verified: no sampling
            {"metered": (F, Reason.METERED), "subscribers": (P, Reason.SUBSCRIBERS_ONLY)},
        ),
        # A browser: untouched by the machine policy.
        (
            MachineKind.HUMAN,
            {"allow_search": False},
            {"metered": (F, Reason.METERED), "subscribers": (P, Reason.SUBSCRIBERS_ONLY)},
        ),
    ],
)
def test_what_each_kind_of_client_gets(store, articles, kind, policy, expected):
    save_policy(**policy)
    found = {
        name: (d.level, d.reason)
        for name in ("metered", "subscribers")
        if (d := decide(machine(kind), articles[name], now=SEPT_15))
    }
    assert found == expected
    free = decide(machine(kind), articles["free"], now=SEPT_15)
    assert (free.level, free.reason) == (F, Reason.FREE_ARTICLE)  # free for everyone


def test_an_automated_decision_never_counts_and_says_where_the_terms_are(store, articles):
    decision = decide(machine(MachineKind.AUTOMATED), articles["metered"], now=SEPT_15)
    assert decision.counts_read is False and decision.left is None
    assert decision.preview_blocks == 2
    assert "/machine-access.json" in decision.message


def test_the_preview_length_is_the_policys(store, articles):
    save_policy(preview_blocks=0)
    decision = decide(machine(MachineKind.AUTOMATED), articles["metered"], now=SEPT_15)
    assert (decision.level, decision.reason) == (Level.NONE, Reason.AUTOMATED)


@pytest.mark.parametrize("name", ["trialist", "subscriber", "staff"])
def test_readers_who_read_everything_come_first(monkeypatch, store, articles, name):
    """A signed-in reader is never a machine (identify); and even a reader identity that
    said so would read on their subscription or as staff, which come first."""
    install_entitlements(monkeypatch)
    reader = PRINCIPALS[name]
    as_machine = ReaderIdentity(
        user_id=reader.user_id,
        anonymous_id=None,
        is_staff=reader.is_staff,
        machine=MachineKind.AUTOMATED,
    )
    decision = decide(as_machine, articles["subscribers"], now=SEPT_15)
    assert decision.full and decision.reason in {Reason.SUBSCRIBER, Reason.STAFF}


def test_search_results_and_feeds_peek_like_everyone_else(store, articles):
    """`peek` (feeds, search, lists) gives an automated client what it gives a fresh reader
    who cannot count: no gated class in full."""
    request = RequestFactory().get("/", HTTP_USER_AGENT=REQUESTS)
    request.user = AnonymousUser()
    request.reader = machine(MachineKind.AUTOMATED)
    assert doors.peek(request, articles["metered"]).reason is Reason.AUTOMATED
    assert set(doors.readable_in_full(request)) == {
        (AccessLevel.FREE, False),
        (AccessLevel.FREE, True),
        (AccessLevel.METERED, True),
        (AccessLevel.SUBSCRIBERS, True),
    }


# -- the article page and the print view --------------------------------------------------


def assert_refused(response, title: str) -> str:
    assert response.status_code == 402
    assert response["Link"] == '</machine-access.json>; rel="terms-of-service"'
    assert response["Cache-Control"] == "private, no-store"
    vary = {v.strip() for v in response["Vary"].split(",")}
    assert {"User-Agent", "Accept", "Cookie"} <= vary
    html = response.content.decode()
    assert f"{title} sentence 2 of the body" in html  # the preview
    for gated in range(3, 7):
        assert f"{title} sentence {gated} of the body" not in html
    assert 'href="/machine-access.json"' in html
    return html


@pytest.mark.parametrize("user_agent", ["", REQUESTS, "curl/8.5.0", GPTBOT, GOOGLEBOT])
def test_a_bot_never_spends_a_meter(client, settings, store, articles, user_agent):
    for _ in range(5):
        response = client.get(articles["metered"].url, HTTP_USER_AGENT=user_agent)
        assert_refused(response, "Metered")
        assert settings.READER_COOKIE_NAME not in response.cookies
    assert MeteredRead.objects.count() == 0 and ReaderMeter.objects.count() == 0
    if not isinstance(store, DatabaseMeterStore):
        assert list(store.client.scan_iter(match=f"{store.prefix}:*")) == []


def test_a_bot_gets_the_preview_of_a_subscribers_only_article(client, store, articles):
    assert_refused(client.get(articles["subscribers"].url, HTTP_USER_AGENT=REQUESTS), "Members")


def test_the_print_view_refuses_the_same_way(client, store, articles):
    path = articles["metered"].url + "print/"
    assert_refused(client.get(path, HTTP_USER_AGENT=REQUESTS), "Metered")


def test_a_bot_reads_a_free_article_like_everyone(client, store, articles):
    response = client.get(articles["free"].url, HTTP_USER_AGENT=REQUESTS)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "Free sentence 6 of the body" in response.content.decode()
    assert "Link" not in response


def test_a_spoofed_googlebot_is_automated(client, store, articles, resolver):
    save_policy(crawlers_read_in_full=True)
    response = client.get(
        articles["metered"].url,
        HTTP_USER_AGENT=GOOGLEBOT,
        HTTP_X_FORWARDED_FOR=GOOGLE_ADDRESS,  # from an untrusted peer: not believed
        REMOTE_ADDR="203.0.113.5",
    )
    assert_refused(response, "Metered")


def test_a_verified_googlebot_reads_what_flexible_sampling_grants(
    client, store, articles, resolver
):
    save_policy(crawlers_read_in_full=True)
    for name, title in (("metered", "Metered"), ("subscribers", "Members")):
        response = client.get(
            articles[name].url, HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR=GOOGLE_ADDRESS
        )
        assert response.status_code == 200
        assert f"{title} sentence 6 of the body" in response.content.decode()
    assert MeteredRead.objects.count() == 0


def test_a_verified_googlebot_gets_the_preview_when_search_is_off(
    client, store, articles, resolver
):
    save_policy(crawlers_read_in_full=True, allow_search=False)
    response = client.get(
        articles["metered"].url, HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR=GOOGLE_ADDRESS
    )
    assert_refused(response, "Metered")


def test_a_training_crawler_allowed_by_the_policy_reads_as_a_signed_out_reader(
    client, store, articles
):
    save_policy(allow_ai_train=True)
    response = client.get(articles["metered"].url, HTTP_USER_AGENT=GPTBOT)
    assert response.status_code == 200
    assert "Metered sentence 6 of the body" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_a_policy_save_applies_to_the_next_bot_request(client, store, articles):
    assert client.get(articles["metered"].url, HTTP_USER_AGENT=CHATGPT_USER).status_code == 402
    save_policy(allow_ai_input=True)
    assert client.get(articles["metered"].url, HTTP_USER_AGENT=CHATGPT_USER).status_code == 200


def test_a_browser_is_unaffected(client, settings, store, articles):
    response = client.get(articles["metered"].url, HTTP_USER_AGENT=CHROME)
    assert response.status_code == 200
    assert "Link" not in response
    assert "User-Agent" not in response.get("Vary", "")
    assert "Metered sentence 6 of the body" in response.content.decode()
    assert settings.READER_COOKIE_NAME in response.cookies  # the meter met a new reader


def test_a_signed_in_reader_with_a_tools_user_agent_is_metered_as_a_reader(
    client, django_user_model, store, articles
):
    user = django_user_model.objects.create_user(username="r", email="r@example.com")
    client.force_login(user)
    response = client.get(articles["metered"].url, HTTP_USER_AGENT="curl/8.5.0")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Metered sentence 6 of the body" in html
    assert "You have 2 free articles left this month" in html


# -- the API -----------------------------------------------------------------------------------


def test_the_api_answers_a_bot_with_402_and_a_code(client, store, articles):
    article = articles["metered"]
    response = client.get(f"/api/v1/articles/{article.pk}", HTTP_USER_AGENT=REQUESTS)
    assert response.status_code == 402
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Link"] == '</machine-access.json>; rel="terms-of-service"'
    assert response["Cache-Control"] == "private, no-store"
    payload = json.loads(response.content)
    assert payload["error"]["code"] == "automated_client"
    assert payload["error"]["terms"] == "/machine-access.json"
    detail = payload["article"]
    assert detail["access"] == {
        "level": "preview",
        "reason": "automated",
        "message": payload["error"]["message"],
        "truncated": True,
    }
    text = json.dumps(detail["body"])
    assert "Metered sentence 2 of the body" in text
    assert "Metered sentence 3 of the body" not in text


def test_the_api_gives_a_bot_a_free_article(client, store, articles):
    response = client.get(f"/api/v1/articles/{articles['free'].pk}", HTTP_USER_AGENT=REQUESTS)
    assert response.status_code == 200
    assert json.loads(response.content)["access"]["reason"] == "free_article"


def test_the_api_list_is_the_same_for_a_bot(client, store, articles):
    bot = client.get("/api/v1/articles", HTTP_USER_AGENT=REQUESTS)
    browser = client.get("/api/v1/articles", HTTP_USER_AGENT=CHROME)
    assert bot.status_code == browser.status_code == 200
    assert json.loads(bot.content) == json.loads(browser.content)
