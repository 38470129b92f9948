"""Crawlers are verified by reverse DNS plus forward confirmation; a claim alone is nothing."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from masthead.metering import crawlers
from masthead.metering.middleware import identify
from tests.metering.support import save_policy

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


class FakeResolver:
    def __init__(self, reverse: dict[str, str], forward: dict[str, set[str]]):
        self.reverse_names, self.forward_addresses = reverse, forward
        self.lookups = 0

    def reverse(self, address):
        self.lookups += 1
        return self.reverse_names.get(address)

    def forward(self, host):
        return self.forward_addresses.get(host, set())


@pytest.fixture
def resolver(monkeypatch):
    fake = FakeResolver(
        reverse={
            "66.249.66.1": "crawl-66-249-66-1.googlebot.com",
            "203.0.113.9": "crawl-fake.googlebot.com",
            "198.51.100.7": "googlebot.com.attacker.example",
        },
        forward={
            "crawl-66-249-66-1.googlebot.com": {"66.249.66.1"},
            "crawl-fake.googlebot.com": {"66.249.66.99"},
            "googlebot.com.attacker.example": {"198.51.100.7"},
        },
    )
    monkeypatch.setattr(crawlers, "resolver", fake)
    cache.clear()
    return fake


def test_real_googlebot_is_verified_and_the_answer_is_kept_in_the_shared_cache(
    resolver, monkeypatch
):
    monkeypatch.setattr(crawlers, "shared_cache", lambda: True)
    assert crawlers.is_verified_crawler("66.249.66.1", GOOGLEBOT) is True
    assert crawlers.is_verified_crawler("66.249.66.1", GOOGLEBOT) is True
    assert resolver.lookups == 1


def test_without_a_shared_cache_every_claim_is_checked(resolver, monkeypatch):
    """The embedded default's cache is per process: no verdict is kept there."""
    monkeypatch.setattr(crawlers, "shared_cache", lambda: False)
    assert crawlers.is_verified_crawler("66.249.66.1", GOOGLEBOT) is True
    assert crawlers.is_verified_crawler("66.249.66.1", GOOGLEBOT) is True
    assert resolver.lookups == 2


@pytest.mark.parametrize(
    ("address", "agent"),
    [
        ("66.249.66.1", "Mozilla/5.0 Chrome/130"),  # real address, no claim: not a crawler
        ("127.0.0.1", GOOGLEBOT),  # a claim from an address with no crawler name
        ("203.0.113.9", GOOGLEBOT),  # reverse name fine, forward does not confirm
        ("198.51.100.7", GOOGLEBOT),  # a look-alike domain
    ],
)
def test_unconfirmed_claims_are_refused(resolver, address, agent):
    assert crawlers.is_verified_crawler(address, agent) is False


@pytest.mark.django_db
def test_spoofed_user_agent_and_forwarded_for_get_the_anonymous_view(resolver):
    save_policy(crawlers_read_in_full=True)
    request = RequestFactory().get(
        "/", HTTP_USER_AGENT=GOOGLEBOT, HTTP_X_FORWARDED_FOR="66.249.66.1", REMOTE_ADDR="127.0.0.1"
    )
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert identify(request).verified_crawler is False
    request.META["REMOTE_ADDR"] = "66.249.66.1"
    assert identify(request).verified_crawler is True


@pytest.mark.django_db
def test_no_dns_lookup_when_search_engines_are_not_allowed(resolver):
    """Verified or not, a search crawler then gets the preview: nothing to ask DNS."""
    save_policy(allow_search=False)
    request = RequestFactory().get("/", HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR="66.249.66.1")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert identify(request).verified_crawler is False
    assert resolver.lookups == 0


@pytest.mark.django_db
def test_a_claim_is_checked_without_flexible_sampling(resolver):
    """Search allowed, no flexible sampling: a verified crawler reads as any signed-out reader
    and a spoofed one gets the preview, so the claim is checked."""
    request = RequestFactory().get("/", HTTP_USER_AGENT=GOOGLEBOT, REMOTE_ADDR="66.249.66.1")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert identify(request).verified_crawler is True
    assert resolver.lookups == 1
