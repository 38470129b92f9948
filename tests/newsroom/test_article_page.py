"""The article page: content, metadata, share bar, access contract, caching."""

import json
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.utils.timezone import localtime

from masthead.access.decision import Decision, Level, Reason
from masthead.newsroom import article_view
from masthead.newsroom.models import AccessLevel, RelatedArticle, Sponsor
from tests import factories

BODY = [
    ("paragraph", "<p>Talks resumed after a long winter.</p>"),
    ("subheading", "An empty hand"),
    ("paragraph", "<p>Second paragraph of the piece.</p>"),
    ("pull_quote", {"quote": "Patience is not a plan.", "attribution": "A diplomat"}),
    ("subheading", "Caught between partners"),
    ("paragraph", "<p>Final paragraph, never in a preview.</p>"),
]


class HeadParser(HTMLParser):
    """Collects <meta>, <link rel=canonical> and JSON-LD from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.canonical: list[str] = []
        self.json_ld: list[dict] = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and "content" in attrs:
            self.meta.setdefault(attrs.get("property") or attrs.get("name"), attrs["content"])
        if tag == "link" and attrs.get("rel") == "canonical":
            self.canonical.append(attrs["href"])
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld.append(json.loads(data))
            self._in_ld = False


def parse(response) -> HeadParser:
    parser = HeadParser()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def analysis(make_image):
    return factories.article(
        "Quiet overture wins few friends",
        standfirst="A small state courts a large neighbour.",
        dateline="Valdgrad",
        hero_image=make_image(),
        hero_caption="Cranes idle at the eastern harbour",
        hero_credit="© Meridian Photo",
        body=BODY,
        authors=["Ilse Varga", "Tomas Okafor"],
    )


@pytest.mark.django_db
def test_article_page_shows_headline_dateline_subheadings_caption_and_bylines(client, analysis):
    response = client.get(analysis.url)
    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="article-headline">Quiet overture wins few friends</h1>' in html
    assert '<p><span class="dateline">VALDGRAD --</span> Talks resumed' in html
    assert "<h2>An empty hand</h2>" in html and "<h2>Caught between partners</h2>" in html
    assert '<span class="caption">Cranes idle at the eastern harbour</span>' in html
    assert '<span class="credit">© Meridian Photo</span>' in html
    assert re.search(
        r'By <a href="/authors/ilse-varga/" rel="author">Ilse Varga</a> and '
        r'<a href="/authors/tomas-okafor/" rel="author">Tomas Okafor</a>',
        html,
    )
    assert html.count("VALDGRAD --") == 1


@pytest.mark.django_db
def test_times_are_shown_in_the_site_time_zone(client, settings, analysis):
    settings.TIME_ZONE = "Asia/Tokyo"
    html = client.get(analysis.url).content.decode()
    match = re.search(r'Published <time datetime="([^"]+)">', html)
    assert match and match.group(1).endswith("+09:00")


@pytest.mark.django_db
def test_hero_image_has_srcset_dimensions_alt_from_caption_and_is_not_lazy(client, analysis):
    html = client.get(analysis.url).content.decode()
    hero = re.search(r'<figure class="hero">\s*<img ([^>]+)>', html).group(1)
    assert 'alt="Cranes idle at the eastern harbour"' in hero
    assert re.search(r'srcset="[^"]+480w, [^"]+800w, [^"]+1200w"', hero)
    assert 'width="800" height="450"' in hero
    assert 'loading="eager"' in hero and "lazy" not in hero


@pytest.mark.django_db
def test_body_images_below_the_fold_are_lazy(client, make_image):
    picture = make_image("Fishing boats")
    page = factories.article(
        body=[
            ("paragraph", "<p>Opening.</p>"),
            ("image", {"image": picture, "caption": "Boats at rest", "credit": "© Meridian"}),
        ]
    )
    html = client.get(page.url).content.decode()
    body_image = re.search(r'<figure class="body-image"><img ([^>]+)>', html).group(1)
    assert 'loading="lazy"' in body_image and 'alt="Boats at rest"' in body_image


@pytest.mark.django_db
def test_share_bar_is_plain_links_with_names_and_decorative_icons(client, analysis):
    html = client.get(analysis.url).content.decode()
    share = re.search(r'<ul class="share"[^>]*>(.*?)</ul>', html, re.S).group(1)
    labels = re.findall(r'aria-label="([^"]+)"', share)
    assert labels == [
        "Share on Facebook",
        "Share on LinkedIn",
        "Share on X (Twitter)",
        "Share by e-mail",
        "Print this article",
    ]
    assert share.count('aria-hidden="true" focusable="false"') == 5
    assert "<title" not in share
    assert re.findall(r"<script(?![^>]*application/ld\+json)", html) == []  # no JavaScript
    assert f'href="{analysis.url}print/"' in share
    assert "linkedin.com/sharing/share-offsite/?url=http%3A%2F%2Flocalhost%2F" in share


@pytest.mark.django_db
def test_metadata_canonical_description_open_graph_and_twitter(client, analysis):
    head = parse(client.get(analysis.url))
    canonical = f"http://localhost{analysis.url}"
    assert head.canonical == [canonical]
    assert head.meta["description"] == "A small state courts a large neighbour."
    assert head.meta["og:title"] == "Quiet overture wins few friends"
    assert head.meta["og:url"] == canonical
    assert head.meta["og:type"] == "article"
    assert head.meta["og:image"].startswith("http://localhost/media/images/")
    assert head.meta["twitter:card"] == "summary_large_image"
    assert head.meta["article:section"] == "World"


@pytest.mark.django_db
def test_json_ld_news_article_for_a_metered_article_marks_the_paywalled_part(client, analysis):
    (document,) = parse(client.get(analysis.url)).json_ld
    assert document["@type"] == "NewsArticle"
    assert document["headline"] == "Quiet overture wins few friends"
    assert [a["name"] for a in document["author"]] == ["Ilse Varga", "Tomas Okafor"]
    assert document["publisher"]["name"] == "The Meridian Review"
    assert document["articleSection"] == "World"
    assert document["image"][0].startswith("http://localhost/media/images/")
    assert document["datePublished"] == localtime(analysis.first_published_at).isoformat()
    assert document["datePublished"].endswith(("-05:00", "-04:00"))  # America/New_York
    assert document["isAccessibleForFree"] is False
    assert document["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".article-body",
    }
    assert "articleBody" not in document
    assert "Final paragraph" not in json.dumps(document)


@pytest.mark.django_db
def test_json_ld_for_a_free_article_has_no_paywalled_part(client):
    page = factories.article(access_level=AccessLevel.FREE)
    (document,) = parse(client.get(page.url)).json_ld
    assert document["isAccessibleForFree"] is True
    assert "hasPart" not in document and "articleBody" not in document


@pytest.mark.django_db
def test_json_ld_cannot_break_out_of_its_script_tag(client):
    page = factories.article("Ends with </script><b>bold</b>")
    html = client.get(page.url).content.decode()
    assert "</script><b>" not in html
    (document,) = parse(client.get(page.url)).json_ld
    assert document["headline"] == "Ends with </script><b>bold</b>"


@pytest.mark.django_db
def test_sponsored_article_is_labelled_with_its_disclosure(client):
    sponsor = Sponsor.objects.create(
        name="Halcyon", disclosure="This content was commissioned by Halcyon's trade desk."
    )
    page = factories.article(sponsored=True, sponsor=sponsor)
    html = client.get(page.url).content.decode()
    assert '<p class="sponsored__label">Sponsored content</p>' in html
    assert "<summary>About sponsored content</summary>" in html
    assert "This content was commissioned by Halcyon&#x27;s trade desk." in html


@pytest.mark.django_db
def test_related_articles_explicit_first_then_by_tag_then_by_section(client):
    page = factories.article("Main")
    same_tag = factories.article("Shares a tag", section_title="Business")
    factories.article("Same section")
    chosen = factories.article("Chosen", section_title="Opinion")
    factories.article("Elsewhere", section_title="Technology")
    for target in (page, same_tag):
        target.tags.add("Fisheries")
        target.save_revision().publish()
    RelatedArticle.objects.create(article=page, target=chosen)
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    related = re.search(r'<aside class="related".*?</aside>', html, re.S).group(0)
    titles = re.findall(r'<a href="[^"]+">([^<]+)</a>', related)
    assert titles == ["Chosen", "Shares a tag", "Same section"]


@pytest.mark.django_db
def test_page_goes_through_the_access_contract_and_renders_only_visible_blocks(
    client, monkeypatch, analysis
):
    preview = Decision(
        Level.PREVIEW, Reason.METERED, message="1 free article left", preview_blocks=2
    )
    monkeypatch.setattr(article_view, "open_article", lambda request, page: preview)
    response = client.get(analysis.url)
    html = response.content.decode()
    assert "Talks resumed" in html and "<h2>An empty hand</h2>" in html
    assert "Second paragraph" not in html and "Final paragraph" not in html
    assert html.count("1 free article left") == 1
    assert "private" in response["Cache-Control"] and "Cookie" in response["Vary"]


@pytest.mark.django_db
def test_full_reader_and_preview_reader_never_share_a_cached_body(client, monkeypatch, analysis):
    assert "Final paragraph" in client.get(analysis.url).content.decode()
    preview = Decision(Level.PREVIEW, Reason.METERED, preview_blocks=1)
    monkeypatch.setattr(article_view, "open_article", lambda request, page: preview)
    assert "Final paragraph" not in client.get(analysis.url).content.decode()


@pytest.mark.django_db
def test_publishing_a_change_replaces_the_cached_page(client, analysis):
    assert "Quiet overture" in client.get(analysis.url).content.decode()
    analysis.title = "Overture rebuffed"
    analysis.save_revision().publish()
    html = client.get(analysis.url).content.decode()
    assert "Overture rebuffed" in html and "Quiet overture" not in html


@pytest.mark.django_db
def test_publishing_another_article_refreshes_related_lists(
    client, analysis, django_capture_on_commit_callbacks
):
    client.get(analysis.url)
    with django_capture_on_commit_callbacks(execute=True):
        factories.article("Newly published neighbour")
    assert "Newly published neighbour" in client.get(analysis.url).content.decode()


@pytest.mark.django_db
def test_unpublished_article_is_gone_and_leaves_related_lists(
    client, analysis, django_capture_on_commit_callbacks
):
    other = factories.article("Other story")
    assert "Quiet overture" in client.get(other.url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        analysis.unpublish()
    assert client.get(analysis.url).status_code == 404
    assert "Quiet overture" not in client.get(other.url).content.decode()


@pytest.mark.django_db
def test_print_view_has_the_article_without_site_chrome_and_is_not_indexed(client, analysis):
    response = client.get(f"{analysis.url}print/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<body class="print-view">' in html
    assert '<meta name="robots" content="noindex">' in html
    assert f'<link rel="canonical" href="http://localhost{analysis.url}">' in html
    assert "VALDGRAD --" in html and "Final paragraph" in html
    assert 'class="section-nav"' not in html and "private" in response["Cache-Control"]


@pytest.mark.django_db
def test_print_view_respects_the_access_decision(client, monkeypatch, analysis):
    preview = Decision(Level.PREVIEW, Reason.METERED, preview_blocks=1)
    monkeypatch.setattr(article_view, "open_article", lambda request, page: preview)
    html = client.get(f"{analysis.url}print/").content.decode()
    assert "Talks resumed" in html and "Second paragraph" not in html


@pytest.mark.django_db
def test_cached_fragments_live_in_the_shared_cache_keyed_by_revision(client, analysis):
    client.get(analysis.url)
    key = f"newsroom:article:{analysis.pk}:{analysis.live_revision_id}:body:{len(BODY)}"
    _generation, body = cache.get(key)
    assert "Final paragraph" in body
