"""The article page runs a fixed number of queries, however long or rich the article is.

The access decision is stubbed: its own queries (meters, entitlements) are pinned by the access
tests; these pin the newsroom's.
"""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from masthead.access.decision import Decision, Level, Reason
from masthead.core import generation as site_generation
from masthead.newsroom import article_view
from masthead.newsroom.models import RelatedArticle
from tests import factories


@pytest.fixture(autouse=True)
def steady_generation(monkeypatch):
    """The counts must not depend on timing: the process's last read of the site generation
    (reused for 0.5 s by the policy, campaigns and clock) is kept for the whole test."""
    monkeypatch.setattr(site_generation, "RECENT_SECONDS", 3600.0)
    site_generation.forget()


@pytest.fixture(autouse=True)
def reader_may_read_everything(monkeypatch):
    full = Decision(Level.FULL, Reason.FREE_ARTICLE)
    monkeypatch.setattr(article_view, "open_article", lambda request, page: full)


# Warm (route and fragments cached): no page, no body, no routing; on the embedded default
# (no Redis) the site generation is one primary-key query (docs/decisions/0011).
MAX_WARM_QUERIES = 0 if settings.REDIS_URL else 1
# Cold: Wagtail's routing (site, 5 page lookups, view restrictions: 8), the route table's
# restriction check (2), images with their renditions (2), bylines (1), tags (1), related
# explicit / by tag / by section (3), the sections bar (1), the body's image chooser values (1),
# the privacy screen's one read of the view restrictions (1, access/privacy.py); never more
# for a longer article.
MAX_COLD_QUERIES = MAX_WARM_QUERIES + 20


def small_article(make_image):
    return factories.article(
        "Small",
        hero_image=make_image("Small hero"),
        body=[
            ("paragraph", "<p>Only paragraph.</p>"),
            ("image", {"image": make_image("Small body"), "caption": "One", "credit": "©"}),
        ],
        authors=["Ana Petrova"],
    )


def big_article(make_image):
    pictures = [make_image(f"Picture {n}") for n in range(5)]
    body = []
    for n in range(40):
        body.append(
            ("paragraph", f"<p>Paragraph {n} with <a href='https://example.org'>a link</a>.</p>")
        )
        if n % 8 == 0:
            body.append(("subheading", f"Part {n}"))
            body.append(
                ("image", {"image": pictures[n // 8], "caption": f"Caption {n}", "credit": "©"})
            )
            body.append(("pull_quote", {"quote": f"Quote {n}", "attribution": "Someone"}))
    page = factories.article(
        "Big",
        hero_image=make_image("Big hero"),
        body=body,
        authors=["Ana Petrova", "Ilse Varga", "Tomas Okafor", "Noor Haddad"],
    )
    for n in range(4):
        RelatedArticle.objects.create(article=page, target=factories.article(f"Related {n}"))
    page.tags.add("One", "Two", "Three")
    page.save_revision().publish()
    return page


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_article_page_query_count_does_not_grow_with_blocks_authors_images_or_related(
    client, make_image
):
    small, big = small_article(make_image), big_article(make_image)
    client.get("/")  # warm Wagtail's site root paths, as any running server has
    cold = []
    for page in (small, big):
        cache.clear()
        site_generation.forget()
        client.get("/")
        cold.append(count_queries(client, page.url))
    assert cold[0] == cold[1] <= MAX_COLD_QUERIES
    client.get(small.url)
    warm = [count_queries(client, page.url) for page in (small, big)]
    assert warm[0] == warm[1] <= MAX_WARM_QUERIES
    assert warm[0] < cold[0]


@pytest.mark.django_db
def test_warm_article_page_is_within_the_fixed_budget(
    client, make_image, django_assert_max_num_queries
):
    page = big_article(make_image)
    client.get(page.url)
    with django_assert_max_num_queries(MAX_WARM_QUERIES):
        assert "Paragraph 39" in client.get(page.url).content.decode()
