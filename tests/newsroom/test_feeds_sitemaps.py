"""RSS and Atom feeds, sitemap.xml, the Google News sitemap, robots.txt and the favicon."""

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.conf import settings

from masthead.access.decision import Decision, Level, Reason
from masthead.core import clock
from masthead.newsroom import feeds
from masthead.newsroom.models import AccessLevel, ArticlePage, Sponsor
from tests import factories

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
BODY = [("paragraph", "<p>Opening line.</p>"), ("paragraph", "<p>Closing line.</p>")]


def rss_items(client, url="/feeds/rss/"):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    return ET.fromstring(response.content).findall("./channel/item")


@pytest.mark.django_db
def test_rss_feed_is_valid_xml_newest_first_with_links_and_authors(client):
    factories.article("Older", authors=["Ilse Varga"])
    factories.article("Newer")
    items = rss_items(client)
    assert [item.findtext("title") for item in items] == ["Newer", "Older"]
    assert items[1].findtext("link").startswith(f"{settings.SITE_URL}/world/test-article-")
    assert items[1].findtext("{http://purl.org/dc/elements/1.1/}creator") == "Ilse Varga"


@pytest.mark.django_db
def test_atom_feed_is_valid_xml(client):
    factories.article("In Atom")
    response = client.get("/feeds/atom/")
    root = ET.fromstring(response.content)
    assert response["Content-Type"].startswith("application/atom+xml")
    assert [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")] == ["In Atom"]


@pytest.mark.django_db
def test_feeds_carry_full_text_only_for_free_articles_the_doors_let_through(client):
    factories.article("Free one", access_level=AccessLevel.FREE, body=BODY)
    factories.article("Metered one", access_level=AccessLevel.METERED, body=BODY)
    factories.article("Subscribers one", access_level=AccessLevel.SUBSCRIBERS, body=BODY)
    descriptions = {i.findtext("title"): i.findtext("description") for i in rss_items(client)}
    assert "Closing line." in descriptions["Free one"]
    for title in ("Metered one", "Subscribers one"):
        assert "Closing line." not in descriptions[title]
        assert "Opening line." not in descriptions[title]
        assert f"Standfirst of {title}." in descriptions[title]


@pytest.mark.django_db
def test_feeds_show_only_the_standfirst_when_peek_is_not_full(client, monkeypatch):
    factories.article("Free but gated", access_level=AccessLevel.FREE, body=BODY)
    gated = Decision(Level.PREVIEW, Reason.METERED, preview_blocks=1)
    monkeypatch.setattr(feeds, "peek", lambda request, article, **kwargs: gated)
    (item,) = rss_items(client)
    assert "Opening line." not in item.findtext("description")


@pytest.mark.django_db
def test_sponsored_items_are_labelled_in_feeds(client):
    sponsor = Sponsor.objects.create(
        name="Acme", disclosure="This content was commissioned by Acme."
    )
    factories.article("Paid piece", sponsored=True, sponsor=sponsor)
    (item,) = rss_items(client)
    assert item.findtext("title") == "Sponsored content: Paid piece"
    assert item.findtext("category") == "Sponsored content"
    assert "This content was commissioned by Acme." in item.findtext("description")
    atom = ET.fromstring(client.get("/feeds/atom/").content)
    assert atom.find(f"{ATOM}entry/{ATOM}title").text == "Sponsored content: Paid piece"


@pytest.mark.django_db
def test_section_feed_has_only_that_section_and_unknown_section_is_404(client):
    factories.article("World story", section_title="World")
    factories.article("Business story", section_title="Business")
    titles = [i.findtext("title") for i in rss_items(client, "/feeds/business/rss/")]
    assert titles == ["Business story"]
    assert client.get("/feeds/business/atom/").status_code == 200
    response = client.get("/feeds/no-such-section/rss/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("limit", ["abc", "0", "51", "-1", "1e3", "99999999999999999999", "", "٣"])
def test_bad_feed_limit_is_a_styled_400(client, limit):
    response = client.get("/feeds/rss/", {"limit": limit})
    assert response.status_code == 400
    assert "The feed&#x27;s limit must be a whole number from 1 to 50." in response.content.decode()


@pytest.mark.django_db
def test_feed_limit_caps_the_number_of_items(client):
    for n in range(3):
        factories.article(f"Story {n}")
    assert len(rss_items(client, "/feeds/rss/?limit=2")) == 2


@pytest.mark.django_db
def test_sitemap_lists_live_pages_only(client):
    live = factories.article("Live")
    draft = factories.article("Draft", publish=False)
    response = client.get("/sitemap.xml")
    root = ET.fromstring(response.content)
    locations = [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]
    assert f"http://localhost{live.url}" in locations
    assert f"http://localhost{draft.url_path[len('/meridian-home') :]}" not in locations
    assert len(locations) == len(set(locations))


@pytest.mark.django_db
def test_news_sitemap_has_recent_non_sponsored_articles_with_headlines(client):
    recent = factories.article("Fresh news")
    old = factories.article("Old news")
    ArticlePage.objects.filter(pk=old.pk).update(first_published_at=clock.now() - timedelta(days=3))
    sponsor = Sponsor.objects.create(name="Acme", disclosure="Commissioned by Acme.")
    factories.article("Paid", sponsored=True, sponsor=sponsor)
    root = ET.fromstring(client.get("/news-sitemap.xml").content)
    urls = root.findall(f"{SITEMAP}url")
    assert [u.findtext(f"{NEWS}news/{NEWS}title") for u in urls] == ["Fresh news"]
    (url,) = urls
    assert url.findtext(f"{SITEMAP}loc") == f"http://localhost{recent.url}"
    assert url.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}name") == "The Meridian Review"
    assert url.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language") == "en"


@pytest.mark.django_db
def test_robots_txt_points_at_both_sitemaps_and_keeps_crawlers_out_of_admin(client):
    response = client.get("/robots.txt")
    text = response.content.decode()
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "Disallow: /admin/\n" in text
    assert "Sitemap: http://testserver/sitemap.xml\n" in text
    assert "Sitemap: http://testserver/news-sitemap.xml\n" in text


@pytest.mark.django_db
def test_favicon_is_a_local_svg(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/masthead/favicon.svg"
    assert client.get("/static/masthead/favicon.svg").status_code == 200
