"""Bad input never reaches a 500: readers get a styled 404 or 400."""

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from tests import factories

STYLED = '<link rel="stylesheet" href="/static/masthead/site.css">'


@pytest.fixture
def newsroom():
    return factories.article("Existing")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/no-such-page/",
        "/world/no-such-article/",
        "/world/test-article-1/print/extra/",
        "/tags/unknown/",
        "/feeds/unknown/rss/",
        "/world/?page=999999999999",
        "/world/?page=0",
        "/world/?page=2",
        "/authors/ana-petrova/?page=999999999999",
        "/search/?q=existing&page=999999999999",
    ],
)
def test_unknown_urls_and_pages_past_the_end_are_a_styled_404(client, newsroom, url):
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert STYLED in html and "We could not find that page" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/world/?page=abc",
        "/world/?page=-1",
        "/world/?page=1.5",
        "/world/?page=%ff%fe",
        "/authors/ana-petrova/?page=two",
        "/tags/existing/?page=x",
        "/search/?q=existing&page=%F0%9F%92%A5",
    ],
)
def test_malformed_page_numbers_are_a_styled_400(client, newsroom, url):
    newsroom.tags.add("Existing")
    newsroom.save_revision().publish()
    response = client.get(url)
    assert response.status_code == 400
    html = response.content.decode()
    assert STYLED in html and "The page number must be a whole number" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    ["%ff%fe%fd", "a" * 2000, "\"'();--", "OR AND NOT", "*", "(", "💥", "%0d%0aSet-Cookie"],
)
def test_strange_search_queries_answer_200(client, newsroom, query):
    response = client.get(f"/search/?q={query}")
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("/world/?page=%00", "contains a NUL character"),
        ("/search/?q=%00", "contains a NUL character"),
        ("/search/?q=" + "a" * 5000, "is longer than 2048 characters"),
    ],
)
def test_nul_and_overlong_values_are_the_styled_400_saying_why(client, newsroom, url, says):
    """One middleware refuses these for every view (decision 0016)."""
    response = client.get(url)
    assert response.status_code == 400
    html = response.content.decode()
    assert STYLED in html and says in html


@pytest.mark.django_db
def test_repeated_and_odd_query_parameters_do_not_break_pages(client, newsroom):
    for url in ["/?page=1&page=abc", "/world/?page=1&page=2&x[]=1", "/feeds/rss/?limit=5&limit=x"]:
        assert client.get(url).status_code in {200, 400, 404}, url


@pytest.mark.django_db
def test_unsupported_methods_are_refused_without_a_500(client, newsroom):
    assert client.post("/search/", {"q": "x"}).status_code == 405
    assert client.post("/robots.txt").status_code == 405


def test_500_page_renders_without_a_request(rf):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html and "The Meridian Review" in html
    assert "Error 400" in render_to_string("400.html")


class SectionPageNumbers(HypothesisTestCase):
    """Whatever the page parameter is, the section page answers 200, 400 or 404."""

    @classmethod
    def setUpTestData(cls):
        factories.article("Existing")

    @hypothesis_settings(max_examples=60, deadline=None)
    @given(st.text(max_size=30))
    def test_any_page_parameter(self, raw):
        response = self.client.get("/world/", {"page": raw})
        assert response.status_code in {200, 400, 404}
