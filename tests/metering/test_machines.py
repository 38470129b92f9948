"""The agent table, the classifier, robots.txt and the machine terms (docs/machines.md)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from masthead.metering import crawlers, machines, terms
from masthead.metering.machines import AGENTS, Category, MachineKind, classify
from masthead.metering.middleware import identify
from masthead.metering.models import MeterPolicy
from tests.metering.support import save_policy

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CUBOT_PHONE = (
    "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
BINGBOT = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
GPTBOT = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot"
)
CHATGPT_USER = (
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; "
    "+https://openai.com/bot"
)


class Resolver:
    """Googlebot's real address resolves both ways; nothing else does."""

    def __init__(self) -> None:
        self.lookups = 0

    def reverse(self, address: str) -> str | None:
        self.lookups += 1
        return "crawl-66-249-66-1.googlebot.com" if address == "66.249.66.1" else None

    def forward(self, host: str) -> set[str]:
        return {"66.249.66.1"} if host == "crawl-66-249-66-1.googlebot.com" else set()


@pytest.fixture
def resolver(monkeypatch):
    fake = Resolver()
    monkeypatch.setattr(crawlers, "resolver", fake)
    return fake


@pytest.mark.parametrize(
    ("user_agent", "address", "kind"),
    [
        # Browsers.
        (CHROME, "203.0.113.5", MachineKind.HUMAN),
        (SAFARI_IOS, "203.0.113.5", MachineKind.HUMAN),
        (FIREFOX, "203.0.113.5", MachineKind.HUMAN),
        (CUBOT_PHONE, "203.0.113.5", MachineKind.HUMAN),  # a phone maker, not a bot
        # Verifiable search crawlers: verified by DNS, or never trusted.
        (GOOGLEBOT, "66.249.66.1", MachineKind.VERIFIED_SEARCH),
        (GOOGLEBOT, "203.0.113.5", MachineKind.AUTOMATED),
        (BINGBOT, "203.0.113.5", MachineKind.AUTOMATED),
        ("Mozilla/5.0 (compatible; Applebot/0.1)", "203.0.113.5", MachineKind.AUTOMATED),
        # Declared agents, by category.
        ("DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "", MachineKind.SEARCH),
        (GPTBOT, "", MachineKind.TRAINING),
        ("Mozilla/5.0 (compatible; ClaudeBot/1.0; +claudebot@anthropic.com)", "", "training"),
        ("CCBot/2.0 (https://commoncrawl.org/faq/)", "", MachineKind.TRAINING),
        (
            "Mozilla/5.0 (Linux; Android 5.0) (compatible; Bytespider; spider-feedback@x.com)",
            "",
            "training",
        ),
        (
            "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)",
            "",
            "training",
        ),
        ("Mozilla/5.0 (compatible; Amazonbot/0.1)", "", MachineKind.TRAINING),
        ("cohere-ai", "", MachineKind.TRAINING),
        (CHATGPT_USER, "", MachineKind.ANSWER),
        (
            "Mozilla/5.0 (compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot)",
            "",
            "answer",
        ),
        ("Mozilla/5.0 (compatible; Claude-User/1.0; +Claude-User@anthropic.com)", "", "answer"),
        ("Mozilla/5.0 (compatible; Claude-SearchBot/1.0)", "", MachineKind.ANSWER),
        (
            "Mozilla/5.0 (compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)",
            "",
            "answer",
        ),
        ("Mozilla/5.0 (compatible; Perplexity-User/1.0)", "", MachineKind.ANSWER),
        ("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "", "automated"),
        # Unidentified automated clients.
        ("", "", MachineKind.AUTOMATED),
        ("   ", "", MachineKind.AUTOMATED),
        ("curl/8.5.0", "", MachineKind.AUTOMATED),
        ("Wget/1.21.4", "", MachineKind.AUTOMATED),
        ("python-requests/2.32.3", "", MachineKind.AUTOMATED),
        ("python-httpx/0.28.1", "", MachineKind.AUTOMATED),
        ("Python-urllib/3.11", "", MachineKind.AUTOMATED),
        ("Python/3.11 aiohttp/3.11.10", "", MachineKind.AUTOMATED),
        ("aiohttp/3.11.10", "", MachineKind.AUTOMATED),
        ("Go-http-client/2.0", "", MachineKind.AUTOMATED),
        ("Java/17.0.2", "", MachineKind.AUTOMATED),
        ("libwww-perl/6.77", "", MachineKind.AUTOMATED),
        ("Scrapy/2.12.0 (+https://scrapy.org)", "", MachineKind.AUTOMATED),
        ("okhttp/4.12.0", "", MachineKind.AUTOMATED),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/131.0.0.0 Safari/537.36",
            "",
            MachineKind.AUTOMATED,
        ),
        ("Mozilla/5.0 (compatible; SomeNewBot/1.0)", "", MachineKind.AUTOMATED),
        ("Mozilla/5.0 (compatible; ExampleSpider)", "", MachineKind.AUTOMATED),
        ("news-crawler 0.3", "", MachineKind.AUTOMATED),
        ("Mozilla/5.0 zgrab/0.x fancybot", "", MachineKind.AUTOMATED),
        ("Mozilla/5.0 (compatible) googlebot-imitation", "", MachineKind.AUTOMATED),
    ],
)
def test_classify(resolver, user_agent, address, kind):
    assert classify(user_agent, {}, address=address) == kind


def test_headless_client_hints_are_automated():
    assert classify(CHROME, {"HTTP_SEC_CH_UA": '"HeadlessChrome";v="131"'}) is MachineKind.AUTOMATED
    assert classify(CHROME, {"HTTP_SEC_CH_UA": '"Chromium";v="131"'}) is MachineKind.HUMAN


def test_a_browser_is_classified_without_dns(resolver):
    assert classify(CHROME, {}, address="66.249.66.1") is MachineKind.HUMAN
    assert resolver.lookups == 0


def test_an_unchecked_claim_is_never_trusted(resolver):
    assert classify(GOOGLEBOT, {}, address="66.249.66.1", verify=False) is MachineKind.AUTOMATED
    assert resolver.lookups == 0


def test_every_table_token_is_classified_as_its_category(resolver):
    expected = {
        Category.SEARCH: {MachineKind.SEARCH, MachineKind.AUTOMATED},  # verifiable: unverified
        Category.ANSWER: {MachineKind.ANSWER},
        Category.TRAINING: {MachineKind.TRAINING},
        Category.OTHER: {MachineKind.AUTOMATED},
    }
    for agent in AGENTS:
        if agent.robots_only:
            continue
        found = classify(f"Mozilla/5.0 (compatible; {agent.token}/1.0)", {}, address="")
        assert found in expected[agent.category], agent.token


@pytest.mark.parametrize(
    ("kind", "fields", "granted"),
    [
        (MachineKind.HUMAN, {}, True),
        (MachineKind.AUTOMATED, {"allow_search": True, "allow_ai_input": True}, False),
        (MachineKind.VERIFIED_SEARCH, {"allow_search": True}, True),
        (MachineKind.VERIFIED_SEARCH, {"allow_search": False}, False),
        (MachineKind.SEARCH, {"allow_search": False}, False),
        (MachineKind.ANSWER, {"allow_ai_input": False}, False),
        (MachineKind.ANSWER, {"allow_ai_input": True}, True),
        (MachineKind.TRAINING, {"allow_ai_train": False, "allow_ai_input": True}, False),
        (MachineKind.TRAINING, {"allow_ai_train": True}, True),
    ],
)
def test_what_the_policy_grants(kind, fields, granted):
    assert machines.granted(kind, MeterPolicy(**fields)) is granted


@pytest.mark.django_db
def test_the_reader_identity_carries_the_classification(resolver):
    def identity(user_agent: str, address: str = "203.0.113.5"):
        request = RequestFactory().get("/", HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
        request.user = AnonymousUser()
        return identify(request)

    assert identity(CHROME).machine is MachineKind.HUMAN
    assert identity("python-requests/2.32").machine is MachineKind.AUTOMATED
    assert identity(GPTBOT).machine is MachineKind.TRAINING
    assert identity(GOOGLEBOT, "66.249.66.1").machine is MachineKind.VERIFIED_SEARCH
    assert identity(GOOGLEBOT).machine is MachineKind.AUTOMATED


@pytest.mark.django_db
def test_a_signed_in_reader_is_never_a_machine(django_user_model):
    user = django_user_model.objects.create_user(username="r", email="r@example.com")
    request = RequestFactory().get("/", HTTP_USER_AGENT="curl/8.5.0")
    request.user = user
    assert identify(request).machine is MachineKind.HUMAN


# -- the policy's fields -------------------------------------------------------------------


@pytest.mark.django_db
def test_policy_defaults_allow_search_only():
    policy = MeterPolicy()
    assert (policy.allow_search, policy.allow_ai_input, policy.allow_ai_train) == (
        True,
        False,
        False,
    )
    assert terms.content_signal(policy) == "search=yes, ai-input=no, ai-train=no"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "contact", ["licensing@example.com", "https://example.com/licensing", "http://example.com/"]
)
def test_licensing_contact_takes_an_address_or_a_url(contact):
    assert save_policy(licensing_contact=contact).licensing_contact == contact


@pytest.mark.django_db
@pytest.mark.parametrize("contact", ["nobody", "ftp://example.com/", "a@b", "javascript:x"])
def test_licensing_contact_refuses_anything_else(contact):
    with pytest.raises(ValidationError) as raised:
        save_policy(licensing_contact=contact)
    assert "licensing_contact" in raised.value.message_dict


# -- robots.txt ------------------------------------------------------------------------------

ROOT = "http://testserver"
HEADER = """\
# Terms for search engines, AI answer engines and AI training (machine-readable):
# http://testserver/machine-access.json (for people: http://testserver/machine-access/)
# Content-Signal (https://contentsignals.org/): search = search results that link
# here; ai-input = input to AI answers (retrieval, grounding); ai-train = training
# or fine-tuning AI models. Gated articles answer automated clients the policy does
# not allow with the preview only and HTTP 402.
"""
BASE = """\
Disallow: /admin/
Disallow: /django-admin/
Disallow: /accounts/
Disallow: /search/
Disallow: /*/print/$
"""
SEARCH_AGENTS = """\
User-agent: Googlebot
User-agent: Bingbot
User-agent: Applebot
User-agent: DuckDuckBot
"""
ANSWER_AGENTS = """\
User-agent: OAI-SearchBot
User-agent: Claude-SearchBot
User-agent: PerplexityBot
User-agent: ChatGPT-User
User-agent: Claude-User
User-agent: Perplexity-User
User-agent: MistralAI-User
"""
TRAINING_AGENTS = """\
User-agent: Google-Extended
User-agent: Applebot-Extended
User-agent: GPTBot
User-agent: ClaudeBot
User-agent: CCBot
User-agent: Bytespider
User-agent: Meta-ExternalAgent
User-agent: Amazonbot
User-agent: cohere-ai
User-agent: cohere-training-data-crawler
User-agent: Diffbot
User-agent: AI2Bot
"""
SITEMAPS = """\
Sitemap: http://testserver/sitemap.xml
Sitemap: http://testserver/news-sitemap.xml
"""


def expected_robots(search: bool, ai_input: bool, ai_train: bool, contact: str = "") -> str:
    signal = (
        f"Content-Signal: search={'yes' if search else 'no'}, "
        f"ai-input={'yes' if ai_input else 'no'}, ai-train={'yes' if ai_train else 'no'}\n"
    )

    def rules(on: bool) -> str:
        return BASE if on else "Disallow: /\n"

    def state(on: bool) -> str:
        return "allowed" if on else "not allowed"

    licensing = f"# Licensing: {contact}\n" if contact else ""
    return (
        HEADER
        + licensing
        + "\nUser-agent: *\n"
        + signal
        + BASE
        + f"\n# Search engines (search): {state(search)}\n"
        + SEARCH_AGENTS
        + signal
        + rules(search)
        + f"\n# AI answer engines and assistants (ai-input): {state(ai_input)}\n"
        + ANSWER_AGENTS
        + signal
        + rules(ai_input)
        + f"\n# AI training crawlers (ai-train): {state(ai_train)}\n"
        + TRAINING_AGENTS
        + signal
        + rules(ai_train)
        + "\n"
        + SITEMAPS
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("search", "ai_input", "ai_train"),
    [(True, False, False), (False, False, False), (True, True, False), (True, True, True)],
)
def test_robots_txt_exact_output_per_policy(client, search, ai_input, ai_train):
    save_policy(allow_search=search, allow_ai_input=ai_input, allow_ai_train=ai_train)
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Cache-Control"].startswith("public")
    assert response.content.decode() == expected_robots(search, ai_input, ai_train)


@pytest.mark.django_db
def test_robots_txt_names_the_licensing_contact(client):
    save_policy(licensing_contact="licensing@example.com")
    text = client.get("/robots.txt").content.decode()
    assert text == expected_robots(True, False, False, "licensing@example.com")


@pytest.mark.django_db
def test_a_policy_save_shows_in_robots_txt_on_the_next_request(client):
    assert "ai-train=no" in client.get("/robots.txt").content.decode()
    save_policy(allow_ai_train=True)
    assert "ai-train=yes" in client.get("/robots.txt").content.decode()


# -- /machine-access.json ------------------------------------------------------------------


@pytest.mark.django_db
def test_machine_access_json(client):
    save_policy(allow_ai_input=True, licensing_contact="https://example.com/licensing")
    response = client.get("/machine-access.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"].startswith("public")
    document = json.loads(response.content)
    assert document["signals"] == {"search": "yes", "ai-input": "yes", "ai-train": "no"}
    assert document["content_signal"] == "search=yes, ai-input=yes, ai-train=no"
    assert document["licensing"] == {"contact": "https://example.com/licensing", "kind": "url"}
    assert document["terms"] == "http://testserver/machine-access/"
    assert document["robots"] == "http://testserver/robots.txt"
    assert document["gated_articles"]["status"] == 402
    assert document["gated_articles"]["api_error_code"] == "automated_client"
    assert set(document["meaning"]) == {"search", "ai-input", "ai-train"}
    by_token = {agent["token"]: agent for agent in document["agents"]}
    assert by_token["GPTBot"]["allowed"] is False
    assert by_token["ChatGPT-User"]["allowed"] is True
    assert by_token["Googlebot"]["allowed"] is True


@pytest.mark.django_db
def test_machine_access_without_a_contact(client):
    document = json.loads(client.get("/machine-access.json").content)
    assert document["licensing"] is None


@pytest.mark.django_db
def test_machine_access_page_for_people(client):
    save_policy(licensing_contact="licensing@example.com")
    response = client.get("/machine-access/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="mailto:licensing@example.com"' in html
    assert 'href="/machine-access.json"' in html
    assert response["Cache-Control"].startswith("public")
