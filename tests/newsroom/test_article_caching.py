"""The article page's caching: one cache round trip for a known URL, a small route entry,
and public caching only for pages that are the same for everyone."""

import pickle

import pytest
from django.core.cache import cache

from masthead.access.decision import Decision, Level, Reason
from masthead.core import generation as site_generation
from masthead.core.models import SiteGeneration
from masthead.newsroom import article_view, routes
from masthead.newsroom.models import AccessLevel, ArticlePage
from tests import factories

BODY = [
    ("paragraph", "<p>Harbour fees rose twice this spring.</p>"),
    ("subheading", "Who pays"),
    ("paragraph", "<p>Ferry operators passed the cost on.</p>"),
    ("paragraph", "<p>Closing paragraph past any preview.</p>"),
]


class CacheReads:
    """Records the newsroom's reads from the shared stores: `read` is the site generation
    with the entries asked along with it (one round trip on Redis; on the embedded default
    one primary-key query plus the in-process cache); the calls made inside one of them are
    not counted. Other apps' reads (the demo clock's offset, when it is on) are theirs."""

    def __init__(self, monkeypatch) -> None:
        self.calls: list[str] = []
        self.depth = 0
        for name in ("get", "get_many"):
            original = getattr(cache, name)
            monkeypatch.setattr(cache, name, self._counting(name, original))
        monkeypatch.setattr(site_generation, "read", self._counting("read", site_generation.read))

    def _counting(self, name, original):
        def read(key_or_keys=(), *args, **kwargs):
            keys = [key_or_keys] if isinstance(key_or_keys, str) else list(key_or_keys)
            newsroom = name == "read" or any(key.startswith("newsroom:") for key in keys)
            if not self.depth and newsroom:
                self.calls.append(name)
            self.depth += 1
            try:
                return original(key_or_keys, *args, **kwargs)
            finally:
                self.depth -= 1

        return read


def decided(monkeypatch, decision: Decision) -> None:
    monkeypatch.setattr(article_view, "open_article", lambda request, page: decision)


@pytest.mark.django_db
def test_a_known_url_is_served_with_one_cache_read_and_no_page(monkeypatch, client):
    decided(monkeypatch, Decision(Level.FULL, Reason.FREE_ARTICLE))
    page = factories.article("Fees climb", body=BODY)
    client.get(page.url)  # Wagtail routes it and it is remembered
    client.get(page.url)  # this process learns the route
    reads = CacheReads(monkeypatch)
    monkeypatch.setattr(ArticlePage.objects, "get", pytest.fail)
    html = client.get(page.url).content.decode()
    assert reads.calls == ["read"]
    assert "Closing paragraph past any preview." in html
    assert '<h1 class="article-headline">Fees climb</h1>' in html


@pytest.mark.django_db
def test_the_preview_variant_is_read_in_the_same_round_trip(monkeypatch, client):
    decided(monkeypatch, Decision(Level.PREVIEW, Reason.METERED, preview_blocks=2))
    page = factories.article("Fees climb", body=BODY)
    for _ in range(3):
        client.get(page.url)
    reads = CacheReads(monkeypatch)
    html = client.get(page.url).content.decode()
    assert reads.calls == ["read"]
    assert "Who pays" in html
    assert "Ferry operators" not in html and "Closing paragraph" not in html


@pytest.mark.django_db
def test_the_route_entry_is_a_few_fields_not_the_page(client):
    page = factories.article("Fees climb", body=BODY)
    client.get(page.url)
    _generation, route = cache.get(f"newsroom:route:testserver:{page.url}")
    assert route == routes.ArticleRoute(
        pk=page.pk,
        live_revision_id=page.live_revision_id,
        title="Fees climb",
        url=page.url,
        full_url=f"http://localhost{page.url}",
        access_level=AccessLevel.METERED,
        sponsored=False,
        block_count=4,
        print_view=False,
    )
    assert len(pickle.dumps(route)) < 1000


@pytest.mark.django_db
def test_emptying_the_shared_cache_retires_the_routes_a_process_remembers(client):
    page = factories.article("Fees climb", body=BODY)
    client.get(page.url)
    client.get(page.url)
    # A change that bypasses the signals, then the generation's store is emptied (a Redis
    # restart; on the embedded default, the row is lost): it starts again elsewhere.
    ArticlePage.objects.filter(pk=page.pk).update(slug="moved-quietly")
    cache.clear()
    SiteGeneration.objects.all().delete()
    assert client.get(page.url).status_code == 404


@pytest.mark.django_db
def test_a_free_article_for_a_signed_out_reader_stays_publicly_cacheable(client):
    page = factories.article("Open notice", access_level=AccessLevel.FREE, body=BODY)
    for _ in range(3):  # Wagtail, then the route table, then this process's known route
        response = client.get(page.url)
        assert response.status_code == 200
        assert "private" not in response.get("Cache-Control", "")
        assert not response.cookies


@pytest.mark.django_db
def test_a_free_article_for_a_signed_in_reader_is_private_and_varies_on_cookie(client):
    page = factories.article("Open notice", access_level=AccessLevel.FREE, body=BODY)
    client.force_login(factories.user())
    for _ in range(3):
        response = client.get(page.url)
        assert "Your account" in response.content.decode()
        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_a_metered_article_for_a_signed_out_reader_is_private_and_varies_on_cookie(client):
    page = factories.article("Metered notice", body=BODY)
    for _ in range(3):
        response = client.get(page.url)
        assert "private" in response["Cache-Control"]
        assert "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_a_signed_out_reader_with_a_rendered_shell_reads_only_the_generation(monkeypatch, client):
    decided(monkeypatch, Decision(Level.FULL, Reason.FREE_ARTICLE))
    page = factories.article("Fees climb", body=BODY)
    for _ in range(3):  # Wagtail, the route table, then the shell is rendered
        client.get(page.url)
    read_keys: list[list[str]] = []
    original = site_generation.read
    monkeypatch.setattr(
        site_generation,
        "read",
        lambda keys=(): read_keys.append(list(keys)) or original(keys),
    )
    monkeypatch.setattr(ArticlePage.objects, "get", pytest.fail)
    html = client.get(page.url).content.decode()
    assert read_keys == [[]]  # the generation alone
    assert html.count("Closing paragraph past any preview.") == 1
    assert "masthead-slot" not in html


@pytest.mark.django_db
def test_a_preview_reader_after_a_full_reader_never_gets_the_text_past_the_cut(monkeypatch, client):
    page = factories.article("Fees climb", body=BODY)
    decided(monkeypatch, Decision(Level.FULL, Reason.METERED, message="You have 2 left"))
    for _ in range(3):
        full = client.get(page.url).content.decode()
    assert "Closing paragraph past any preview." in full
    assert full.count('class="meter-message"') == 1
    assert "You have 2 left" in full
    assert 'id="paywall"' not in full
    decided(monkeypatch, Decision(Level.PREVIEW, Reason.METER_EXHAUSTED, preview_blocks=2))
    for _ in range(2):
        preview = client.get(page.url).content.decode()
        assert "Who pays" in preview
        assert "Ferry operators" not in preview and "Closing paragraph" not in preview
        assert preview.count('id="paywall"') == 1
        assert 'class="meter-message"' not in preview and "You have 2 left" not in preview
        assert "masthead-slot" not in preview
    decided(monkeypatch, Decision(Level.FULL, Reason.METERED, message="You have 1 left"))
    again = client.get(page.url).content.decode()
    assert "Closing paragraph past any preview." in again
    assert again.count('class="meter-message"') == 1
    assert "You have 1 left" in again and "You have 2 left" not in again


@pytest.mark.django_db
def test_the_signed_out_shell_is_never_served_to_a_signed_in_reader(monkeypatch, client):
    decided(monkeypatch, Decision(Level.FULL, Reason.FREE_ARTICLE))
    page = factories.article("Open notice", access_level=AccessLevel.FREE, body=BODY)
    for _ in range(3):
        assert "Sign in</a>" in client.get(page.url).content.decode()
    client.force_login(factories.user())
    signed_in = client.get(page.url).content.decode()
    assert "Your account" in signed_in and "Sign out" in signed_in
    assert "csrfmiddlewaretoken" in signed_in
    client.logout()
    signed_out = client.get(page.url).content.decode()
    assert "Your account" not in signed_out and "csrfmiddlewaretoken" not in signed_out
