"""The newsroom in Chromium: layout at phone and desktop widths, accessibility, no script needed."""

import pytest

from masthead.newsroom import demo, demo_copy

LEAKS = ("{{", "}}", "placeholder", "Artboard", "Created with")


@pytest.fixture
def newsroom(settings, tmp_path, live_server):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo.load()
    from masthead.newsroom.models import ArticlePage

    analysis = ArticlePage.objects.get(slug=demo_copy.ANALYSIS["slug"])
    return {
        "home": f"{live_server.url}/",
        "section": f"{live_server.url}/world/",
        "article": f"{live_server.url}{analysis.url}",
    }


def assert_article_text(text: str) -> None:
    assert demo_copy.ANALYSIS["title"] in text
    assert demo_copy.ANALYSIS["hero_caption"] in text
    assert "VALDGRAD -- " in text
    for heading in ("An empty hand", "Lost in translation", "Caught between partners"):
        assert heading in text
    for leak in LEAKS:
        assert leak not in text, leak


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_article_page_reads_well_at_phone_and_desktop_widths(page, newsroom, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(newsroom["article"])
    assert_article_text(page.evaluate("document.body.innerText"))
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scroll
    hero = page.locator("figure.hero img")
    assert hero.evaluate("img => img.complete && img.naturalWidth > 0")
    headline_size = page.locator("h1.article-headline").evaluate(
        "h => parseFloat(getComputedStyle(h).fontSize)"
    )
    assert headline_size >= 28
    screenshot(page, f"newsroom-article-{width}")


@pytest.mark.django_db(transaction=True)
def test_home_section_and_article_have_no_axe_violations(page, newsroom, axe, screenshot):
    page.set_viewport_size({"width": 1280, "height": 900})
    for name in ("home", "section", "article"):
        page.goto(newsroom[name])
        violations = axe(page)
        assert violations == [], (name, [(v["id"], v["nodes"][0]["html"]) for v in violations])
        if name != "article":
            screenshot(page, f"newsroom-{name}-1280")


@pytest.mark.django_db(transaction=True)
def test_article_is_readable_with_javascript_disabled(browser, newsroom):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        response = page.goto(newsroom["article"])
        assert response.status == 200
        assert_article_text(page.inner_text("body"))
        body_paragraphs = page.locator(".article-body p").count()
        assert body_paragraphs == sum(
            1 for kind, _ in demo_copy.ANALYSIS["body"] if kind == "paragraph"
        )
    finally:
        context.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [375, 1280])
def test_search_stems_highlights_and_explains_an_empty_result(
    page, newsroom, screenshot, accessibility, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(newsroom["home"])
    # The header's search form (a plain form on the search page itself).
    page.fill("#site-search-q", "ship")
    page.press("#site-search-q", "Enter")
    page.wait_for_url("**/search/?q=ship")
    headlines = page.locator(".teaser__headline").all_inner_texts()
    assert "Container shipping rates slip as idle ships return to service" in headlines
    assert "Harbour festival returns with tall ships and a new music stage" in headlines
    marks = {m.lower() for m in page.locator(".teaser mark").all_inner_texts()}
    assert marks and marks <= {"ship", "ships", "shipping", "shipped"}, marks
    assert page.locator("[role=search]").count() == 1
    assert page.locator("[role=search]").get_attribute("aria-label") == "Search articles"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    accessibility.check(page, f"search-results-{width}")
    screenshot(page, f"search-results-{width}")

    page.fill("#search-q", "zzyzx quorble")
    page.press("#search-q", "Enter")
    empty = page.locator(".search-empty")
    assert "No articles found for “zzyzx quorble”" in empty.inner_text()
    assert "Check the spelling" in empty.inner_text()
    assert empty.locator("a").all_inner_texts() == ["World", "Business", "Technology", "Opinion"]
    accessibility.check(page, f"search-empty-{width}")
    screenshot(page, f"search-empty-{width}")

    page.goto(newsroom["home"] + "no-such-page/")
    assert page.locator("[role=search]").count() == 1
    accessibility.check(page, f"not-found-{width}")
    accessibility.verdict()
