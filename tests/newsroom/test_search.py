"""Reader search: stemmed on SQLite (FTS5 porter) and PostgreSQL (language configuration),
snippets from text the reader may read, a helpful empty state, one search landmark."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from masthead.newsroom import fulltext
from masthead.newsroom.models import AccessLevel, ArticlePage
from tests import factories

TITLES = re.compile(r'<h2 class="teaser__headline"><a href="[^"]*">([^<]*)</a>')


def titles(client, query: str) -> list[str]:
    return TITLES.findall(client.get("/search/", {"q": query}).content.decode())


def teaser_of(html: str, title: str) -> str:
    return re.search(
        rf'<article class="teaser">(?:(?!</article>).)*{title}.*?</article>', html, re.S
    ).group(0)


@pytest.mark.django_db
def test_ship_finds_ships_and_ships_finds_ship(client):
    factories.article("Ships return to the harbour", standfirst="A fleet comes home.")
    factories.article("Budget vote", standfirst="The ship of state sails on.")
    assert sorted(titles(client, "ship")) == ["Budget vote", "Ships return to the harbour"]
    assert sorted(titles(client, "ships")) == ["Budget vote", "Ships return to the harbour"]
    assert titles(client, "shipping harbours") == ["Ships return to the harbour"]
    assert titles(client, "fleets") == ["Ships return to the harbour"]
    assert titles(client, "submarine") == []


@pytest.mark.django_db
def test_every_word_must_be_found(client):
    factories.article("Harbour accord", standfirst="Negotiators meet in Orsk.")
    assert titles(client, "harbour negotiator") == ["Harbour accord"]
    assert titles(client, "harbour strike") == []


@pytest.mark.django_db
def test_body_is_searched_stemmed_where_readable_and_highlighted(client):
    factories.article(
        "Free deep",
        access_level=AccessLevel.FREE,
        standfirst="Nothing about fish here.",
        body=[
            ("paragraph", "<p>" + " ".join(f"filler{n}" for n in range(60)) + ".</p>"),
            ("paragraph", "<p>The sardine boats landed at dawn & sold out.</p>"),
        ],
    )
    html = client.get("/search/", {"q": "sardines"}).content.decode()
    assert "1 result for “sardines”" in html
    teaser = teaser_of(html, "Free deep")
    assert '<p class="teaser__standfirst">Nothing about fish here.</p>' in teaser
    snippet = re.search(r'<p class="teaser__snippet">(.*?)</p>', teaser).group(1)
    assert snippet.startswith("… ")  # cut around the match, not the whole body
    assert "filler0 " not in snippet
    # (PostgreSQL's ts_headline drops trailing punctuation; SQLite's snippet keeps it.)
    assert "The <mark>sardine</mark> boats landed at dawn &amp; sold" in snippet


@pytest.mark.django_db
def test_standfirst_matches_are_marked_and_escaped(client):
    factories.article("Budget", standfirst="Shipping <costs> rise for ships & ports.")
    teaser = teaser_of(client.get("/search/", {"q": "ship"}).content.decode(), "Budget")
    assert (
        '<p class="teaser__standfirst"><mark>Shipping</mark> &lt;costs&gt; rise for '
        "<mark>ships</mark> &amp; ports.</p>"
    ) in teaser
    assert "teaser__snippet" not in teaser  # the standfirst already shows the match
    assert "<costs>" not in teaser


@pytest.mark.django_db
def test_snippet_never_shows_body_text_the_reader_may_not_read(client):
    """A metered article found by its headline: the anonymous reader sees the standfirst,
    never a passage of the body (which also holds the word); a subscriber-level reader
    (staff) sees the passage."""
    factories.article(
        "Harbour talks",
        standfirst="Negotiators meet.",
        body=[("paragraph", "<p>Opening.</p>")] * 3
        + [("paragraph", "<p>The harbour deal is secretly signed.</p>")],
    )
    html = client.get("/search/", {"q": "harbour"}).content.decode()
    teaser = teaser_of(html, "Harbour talks")
    assert '<p class="teaser__standfirst">Negotiators meet.</p>' in teaser
    assert "teaser__snippet" not in html
    assert "secretly" not in html and "deal" not in html
    # A body-only word does not list the article at all for this reader.
    assert titles(client, "secretly") == []

    client.force_login(factories.user(staff=True))
    html = client.get("/search/", {"q": "harbour"}).content.decode()
    assert "The <mark>harbour</mark> deal is secretly signed" in teaser_of(html, "Harbour talks")
    assert titles(client, "secretly") == ["Harbour talks"]


@pytest.mark.django_db
def test_the_index_follows_edits_and_unpublishing(client):
    page = factories.article("Old headline", standfirst="Plain.")
    assert titles(client, "headline") == ["Old headline"]
    page.title = "Fresh wording"
    page.save_revision().publish()
    assert titles(client, "old") == []
    assert titles(client, "wording") == ["Fresh wording"]
    ArticlePage.objects.get(pk=page.pk).unpublish()
    assert titles(client, "wording") == []
    ArticlePage.objects.get(pk=page.pk).delete()
    assert titles(client, "wording") == []


@pytest.mark.django_db
def test_empty_state_says_what_was_searched_and_suggests(client):
    factories.article("Anything", section_title="World")
    factories.article("Anything else", section_title="Business")
    html = client.get("/search/", {"q": "zzyzx quorble"}).content.decode()
    assert "No articles found for “zzyzx quorble”" in html
    assert "No articles here yet" not in html
    assert "Check the spelling" in html and "Try fewer words" in html
    empty = re.search(r'<section class="search-empty".*?</section>', html, re.S).group(0)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', empty) == [
        ("/world/", "World"),
        ("/business/", "Business"),
    ]
    # No query: the form alone, no empty state.
    assert "search-empty" not in client.get("/search/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/search/", "/search/?q=harbour", "/no-such-page/", "/"])
def test_every_page_has_exactly_one_labelled_search_landmark(client, url):
    factories.article("Harbour")
    html = client.get(url).content.decode()
    landmarks = re.findall(r"<form[^>]*role=\"search\"[^>]*>", html)
    assert len(landmarks) == 1, landmarks
    assert re.search(r'aria-label="[^"]+"', landmarks[0])
    assert "<search" not in html


@pytest.mark.django_db
def test_full_text_index_is_reinstalled_after_a_table_rebuild(client):
    """Django rebuilds a SQLite table (dropping its triggers) when a migration alters it;
    post_migrate puts the triggers back and refills the index."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite triggers; PostgreSQL's expression indexes survive ALTER TABLE")
    factories.article("Lighthouse keepers")
    with connection.cursor() as cursor:
        for name in fulltext._TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
        cursor.execute(f"DELETE FROM {fulltext.FTS_TABLE}")
    fulltext.ensure_after_migrate(sender=None)
    assert titles(client, "lighthouse") == ["Lighthouse keepers"]
    factories.article("Keepers of the light")
    assert sorted(titles(client, "keeper")) == ["Keepers of the light", "Lighthouse keepers"]


@pytest.mark.django_db
def test_postgres_queries_use_the_language_configuration_and_its_index():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    from masthead.newsroom import search

    factories.article("Ships")
    sql = str(search.search_articles("ship", None).query)
    assert "to_tsvector('english'::regconfig" in sql or "to_tsvector(english::regconfig" in sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'newsroom_articlepage'"
        )
        indexes = dict(cursor.fetchall())
    assert "english" in indexes[fulltext.HEADLINE_INDEX]
    assert "gin" in indexes[fulltext.BODY_INDEX].lower()
