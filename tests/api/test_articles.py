"""Articles and sections: listing without bodies, filters, pagination, bad input, caching."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from masthead.newsroom.models import AccessLevel, Sponsor
from tests import factories

pytestmark = pytest.mark.django_db


def _error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


def test_list_gives_summaries_and_never_a_body(client):
    sponsor = Sponsor.objects.create(
        name="Harbor Freight Lines", disclosure="This content was commissioned by Harbor."
    )
    paid = factories.article(
        "Shipping lanes reopen",
        section_title="Business",
        authors=["Dara Okafor", "Lin Wei"],
        sponsored=True,
        sponsor=sponsor,
        access_level=AccessLevel.FREE,
        standfirst="Ports hum again.",
    )
    response = client.get("/api/v1/articles")
    assert response.status_code == 200
    assert (
        response["Cache-Control"] == "public, max-age=60, s-maxage=300, stale-while-revalidate=60"
    )
    body = response.json()
    assert (body["total"], body["page"], body["pages"], body["page_size"]) == (1, 1, 1, 20)
    item = body["items"][0]
    assert item["id"] == paid.pk
    assert item["headline"] == "Shipping lanes reopen"
    assert item["standfirst"] == "Ports hum again."
    assert item["url"].endswith(paid.url) and item["url"].startswith("http")
    assert item["section"]["title"] == "Business"
    assert [author["name"] for author in item["authors"]] == ["Dara Okafor", "Lin Wei"]
    assert item["access_level"] == "free"
    assert item["sponsored"] is True
    assert item["sponsored_label"] == "Sponsored content"
    assert item["sponsor"] == {
        "name": "Harbor Freight Lines",
        "disclosure": "This content was commissioned by Harbor.",
    }
    assert item["published_at"] is not None
    assert "paragraph 1 of the body" not in response.content.decode()


def test_list_leaves_out_drafts_and_orders_newest_first(client):
    older = factories.article("Older")
    newer = factories.article("Newer")
    factories.article("Draft", publish=False)
    ids = [item["id"] for item in client.get("/api/v1/articles").json()["items"]]
    assert ids == [newer.pk, older.pk]


def test_list_filters_by_section(client):
    world = factories.article(section_title="World")
    factories.article(section_title="Business")
    body = client.get("/api/v1/articles", {"section": world.get_parent().slug}).json()
    assert [item["id"] for item in body["items"]] == [world.pk]
    assert body["total"] == 1


def test_unknown_section_is_a_404(client):
    factories.article()
    response = client.get("/api/v1/articles", {"section": "no-such-section"})
    assert response.status_code == 404
    assert _error(response)["code"] == "section_not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "1e3"},
        {"page": str(10**30)},
        {"page_size": "0"},
        {"page_size": "51"},
        {"page_size": "many"},
        {"section": "x" * 300},
    ],
)
def test_bad_pagination_is_a_400(client, params):
    response = client.get("/api/v1/articles", params)
    assert response.status_code == 400
    error = _error(response)
    assert error["code"] == "invalid_request"
    assert error["fields"][0]["location"].startswith("query.")


def test_page_past_the_end_is_a_404_naming_the_last_page(client):
    factories.article()
    factories.article()
    response = client.get("/api/v1/articles", {"page": "2", "page_size": "2"})
    assert response.status_code == 404
    assert _error(response) == {
        "code": "page_not_found",
        "message": "There are 1 page(s) of articles.",
    }


def test_an_empty_newsroom_lists_one_empty_page(client):
    body = client.get("/api/v1/articles").json()
    assert body == {"items": [], "page": 1, "page_size": 20, "total": 0, "pages": 1}


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(count=st.integers(min_value=0, max_value=5), page_size=st.integers(min_value=1, max_value=4))
def test_pages_cover_every_article_exactly_once_in_order(client, count, page_size):
    from masthead.newsroom.models import ArticlePage

    ArticlePage.objects.all().delete()
    made = [factories.article().pk for _ in range(count)]
    seen: list[int] = []
    page = 1
    while True:
        response = client.get("/api/v1/articles", {"page": page, "page_size": page_size})
        assert response.status_code == 200
        seen += [item["id"] for item in response.json()["items"]]
        if page >= response.json()["pages"]:
            break
        page += 1
    assert seen == list(reversed(made))
    assert (
        client.get("/api/v1/articles", {"page": page + 1, "page_size": page_size}).status_code
        == 404
    )


def test_listing_costs_the_same_queries_for_two_or_six_articles(client):
    def queries_for_listing() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/articles").status_code == 200
        return len(captured)

    for _ in range(2):
        factories.article(authors=["Ana Petrova", "Lin Wei"])
    queries_for_listing()  # the first request also looks up the Site, then caches it
    two = queries_for_listing()
    for _ in range(4):
        factories.article(authors=["Ana Petrova", "Dara Okafor"], section_title="Business")
    assert queries_for_listing() == two


def test_sections_list(client):
    factories.section("World")
    factories.section("Business")
    response = client.get("/api/v1/sections")
    assert response.status_code == 200
    assert (
        response["Cache-Control"] == "public, max-age=60, s-maxage=300, stale-while-revalidate=60"
    )
    assert [section["title"] for section in response.json()] == ["World", "Business"]
    assert response.json()[0]["slug"] == "world"


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/articles/abc", 400, "invalid_request"),
        ("/api/v1/articles/1.5", 400, "invalid_request"),
        ("/api/v1/articles/0", 404, "article_not_found"),
        ("/api/v1/articles/-3", 404, "article_not_found"),
        ("/api/v1/articles/999999", 404, "article_not_found"),
        (f"/api/v1/articles/{10**30}", 404, "article_not_found"),
        ("/api/v1/articles/%00", 400, "invalid_nul"),
    ],
)
def test_bad_article_ids(client, path, status, code):
    factories.article()
    response = client.get(path)
    assert response.status_code == status
    assert _error(response)["code"] == code


def test_a_draft_is_not_found(client):
    draft = factories.article(publish=False)
    response = client.get(f"/api/v1/articles/{draft.pk}")
    assert response.status_code == 404


def test_a_section_id_is_not_an_article(client):
    section = factories.section("World")
    assert client.get(f"/api/v1/articles/{section.pk}").status_code == 404


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_article_endpoints_only_read(client, method):
    article = factories.article()
    for path in ["/api/v1/articles", f"/api/v1/articles/{article.pk}", "/api/v1/sections"]:
        response = getattr(client, method)(path)
        assert response.status_code == 405, path
        assert _error(response)["code"] == "method_not_allowed"
        assert response["Allow"] == "GET"


def test_detail_is_private_and_varies_on_cookie_and_authorization(client):
    article = factories.article(access_level=AccessLevel.FREE)
    response = client.get(f"/api/v1/articles/{article.pk}")
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    vary = {part.strip() for part in response["Vary"].split(",")}
    assert {"Cookie", "Authorization"} <= vary


def test_detail_body_blocks_are_structured(client):
    article = factories.article(
        access_level=AccessLevel.FREE,
        dateline="LISBON",
        body=[
            ("paragraph", "<p>Opening <b>line</b>.</p>"),
            ("subheading", "What changed"),
            ("pull_quote", {"quote": "We waited long enough.", "attribution": "A harbour pilot"}),
        ],
    )
    body = client.get(f"/api/v1/articles/{article.pk}").json()
    assert body["dateline"] == "LISBON"
    assert body["hero"] is None
    assert body["body"] == [
        {"type": "paragraph", "value": "<p>Opening <b>line</b>.</p>"},
        {"type": "subheading", "value": "What changed"},
        {
            "type": "pull_quote",
            "value": {"quote": "We waited long enough.", "attribution": "A harbour pilot"},
        },
    ]
    assert body["access"] == {
        "level": "full",
        "reason": "free_article",
        "message": "",
        "truncated": False,
    }
