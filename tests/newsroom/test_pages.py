"""Home, section, author, tag and search pages: headline and standfirst only, never body."""

import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from masthead.access import doors
from masthead.access.decision import Decision, Level, Reason
from masthead.core import generation as site_generation
from masthead.newsroom import listing, search
from masthead.newsroom.models import AccessLevel, ArticlePage, HomePage, Sponsor
from tests import factories


@pytest.mark.django_db
def test_home_leads_with_the_chosen_top_story_then_latest_by_section(client):
    lead = factories.article("The lead", section_title="World")
    newest = factories.article("Newest world story", section_title="World")
    business = factories.article("Rates on hold", section_title="Business")
    home = HomePage.objects.get()
    home.top_story = lead
    home.save_revision().publish()
    html = client.get("/").content.decode()
    top = re.search(r'<section class="top-story".*?</section>', html, re.S).group(0)
    assert "The lead" in top and "Newest world story" not in top
    sections = re.findall(
        r'<h2 class="home-section__title" id="[^"]+"><a href="[^"]+">(\w+)</a>', html
    )
    assert sections == ["World", "Business"]
    assert html.count(">The lead</a>") == 1
    assert newest.title in html and business.title in html


@pytest.mark.django_db
def test_home_without_a_chosen_top_story_leads_with_the_latest(client):
    factories.article("Older")
    factories.article("Latest")
    top = re.search(
        r'<section class="top-story".*?</section>', client.get("/").content.decode(), re.S
    )
    assert "Latest" in top.group(0)


@pytest.mark.django_db
def test_lists_show_standfirst_but_never_body_text(client):
    page = factories.article("Listed", body=[("paragraph", "<p>Secret body sentence.</p>")])
    for url in ["/", page.get_parent().url, "/authors/ana-petrova/", "/search/?q=Listed"]:
        html = client.get(url).content.decode()
        # Search marks the matched word in the standfirst.
        assert "Standfirst of Listed." in html.replace("<mark>", "").replace("</mark>", ""), url
        assert "Secret body sentence" not in html, url


@pytest.mark.django_db
def test_sponsored_articles_are_labelled_in_lists(client):
    sponsor = Sponsor.objects.create(
        name="Acme", disclosure="This content was commissioned by Acme."
    )
    factories.article("Paid piece", sponsored=True, sponsor=sponsor)
    for url in ["/", "/world/"]:
        html = client.get(url).content.decode()
        assert html.count('<p class="sponsored__label">Sponsored content</p>') == 1, url
        assert "This content was commissioned by Acme." in html


@pytest.mark.django_db
def test_section_page_paginates_newest_first(client):
    for number in range(listing.PER_PAGE + 2):
        factories.article(f"Story {number:02d}")
    first = client.get("/world/").content.decode()
    second = client.get("/world/?page=2").content.decode()
    assert re.findall(r'teaser__headline"><a href="[^"]+">(Story \d+)', second) == [
        "Story 01",
        "Story 00",
    ]
    assert "Story 13" in first and "Story 01" not in first
    assert 'rel="next" href="?page=2"' in first
    assert "Page 2 of 2" in second


@pytest.mark.django_db
def test_author_page_lists_their_articles_only(client):
    factories.article("By Ana", authors=["Ana Petrova"])
    factories.article("By Ilse", authors=["Ilse Varga"])
    html = client.get("/authors/ana-petrova/").content.decode()
    assert "By Ana" in html and "By Ilse" not in html
    assert "Ana Petrova" in client.get("/authors/").content.decode()


@pytest.mark.django_db
def test_tag_page_lists_tagged_articles_and_unknown_tags_are_404(client):
    tagged = factories.article("Tagged")
    tagged.tags.add("Fisheries")
    tagged.save_revision().publish()
    factories.article("Untagged")
    response = client.get("/tags/fisheries/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>Fisheries</h1>" in html and "Tagged" in html and "Untagged" not in html
    assert client.get("/tags/no-such-topic/").status_code == 404


@pytest.mark.django_db
def test_search_finds_headline_and_standfirst_but_not_gated_body_text(client):
    page = factories.article(
        "Harbour accord",
        standfirst="Negotiators meet in Orsk.",
        body=[("paragraph", f"<p>Opening {n} mentions krill.</p>") for n in range(4)]
        + [("paragraph", "<p>Deep mention of anchovies.</p>")],
    )
    assert page.title in client.get("/search/?q=accord").content.decode()
    assert page.title in client.get("/search/?q=Orsk").content.decode()
    # A metered article's body (even its preview) is searched only by readers who may read
    # it in full without counting: an anonymous reader may not.
    assert page.title not in client.get("/search/?q=krill").content.decode()


@pytest.mark.django_db
def test_search_matches_deep_body_text_only_where_peek_is_full(client, monkeypatch):
    page = factories.article(
        "Deep body",
        body=[("paragraph", "<p>Opening.</p>")] * 2 + [("paragraph", "<p>Hidden anchovies.</p>")],
    )
    restricted = Decision(Level.PREVIEW, Reason.METERED, preview_blocks=2)
    monkeypatch.setattr(doors, "peek", lambda request, article, **kwargs: restricted)
    assert "1 result" not in client.get("/search/?q=anchovies").content.decode()
    assert page.title not in client.get("/search/?q=anchovies").content.decode()
    full = Decision(Level.FULL, Reason.STAFF)
    monkeypatch.setattr(doors, "peek", lambda request, article, **kwargs: full)
    site_generation.bump()  # what changes a decision (a policy, a level) bumps it
    html = client.get("/search/?q=anchovies").content.decode()
    assert "1 result for" in html and page.title in html


@pytest.mark.django_db
def test_search_follows_the_decision_even_for_free_articles(client, monkeypatch):
    page = factories.article(
        "Free deep",
        access_level=AccessLevel.FREE,
        body=[("paragraph", "<p>Opening.</p>")] * 2 + [("paragraph", "<p>Sardines.</p>")],
    )
    assert page.title in client.get("/search/?q=sardines").content.decode()
    restricted = Decision(Level.PREVIEW, Reason.METERED, preview_blocks=2)
    monkeypatch.setattr(doors, "peek", lambda request, article, **kwargs: restricted)
    site_generation.bump()  # what changes a decision (a policy, a level) bumps it
    assert page.title not in client.get("/search/?q=sardines").content.decode()


@pytest.mark.django_db
def test_body_text_is_derived_from_the_whole_body_on_save():
    body = [("paragraph", f"<p>Block {n}.</p>") for n in range(4)]
    metered = factories.article(body=body)
    assert ArticlePage.objects.get(pk=metered.pk).body_text == (
        "Block 0. Block 1. Block 2. Block 3."
    )


@pytest.mark.django_db
def test_unpublished_and_draft_articles_are_in_no_list(client):
    factories.article("Draft only", publish=False)
    for url in ["/", "/world/", "/search/?q=Draft", "/feeds/rss/"]:
        assert "Draft only" not in client.get(url).content.decode(), url


@hypothesis_settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_clean_query_is_printable_single_spaced_and_bounded(raw):
    cleaned = search.clean_query(raw)
    assert len(cleaned) <= search.MAX_QUERY_LENGTH
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert all(ch.isalnum() or ch == " " for ch in cleaned)


def test_clean_query_keeps_words_and_drops_search_syntax():
    assert search.clean_query('  "Harbour" AND (talks)*  -Orsk\x00') == "Harbour AND talks Orsk"
