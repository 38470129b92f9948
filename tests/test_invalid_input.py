"""Bad input is a 400 that says what was wrong, never a 500: API (JSON code) and site (page).

On PostgreSQL a NUL character reaching any query is a DataError (a 500), which is why these run
on both databases; the cases cover every place a request carries a value (path, query key and
value, form field, JSON string and key, cookie), not one view.
"""

from __future__ import annotations

import json

import pytest
from django.db import connection, transaction

from tests import factories

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token"


def _api_error(response) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    return response.json()["error"]


@pytest.fixture
def site():
    article = factories.article()
    factories.user("reader@example.com")
    return article


@pytest.mark.parametrize(
    ("path", "params", "code", "location"),
    [
        ("/api/v1/articles", {"section": "wor\x00ld"}, "invalid_nul", "query.section"),
        ("/api/v1/articles", {"sec\x00tion": "world"}, "invalid_nul", "query parameter name"),
        ("/api/v1/articles", {"section": "x" * 3000}, "invalid_too_long", "query.section"),
        ("/api/v1/articles/%00", {}, "invalid_nul", "path"),
        ("/api/v1/no%00where", {}, "invalid_nul", "path"),
        ("/api/v1/sections", {"q": "\x00"}, "invalid_nul", "query.q"),
    ],
)
def test_api_query_and_path_with_bad_text_is_a_json_400(client, site, path, params, code, location):
    response = client.get(path, params)
    assert response.status_code == 400
    error = _api_error(response)
    assert (error["code"], error["location"]) == (code, location)
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "code", "location"),
    [
        ('{"email": "reader\\u0000@example.com", "password": "x"}', "invalid_nul", "body.email"),
        ('{"email": "reader@example.com", "password": "\\u0000"}', "invalid_nul", "body.password"),
        ('{"email": "a\\ud800@example.com", "password": "x"}', "invalid_bad_unicode", "body.email"),
        ('{"email": "r@example.com", "password": "x", "a\\u0000": 1}', "invalid_nul", "body.a\x00"),
        ('{"email": ["a\\u0000"], "password": "x"}', "invalid_nul", "body.email[0]"),
    ],
)
def test_token_request_with_bad_text_is_a_json_400(client, site, body, code, location):
    response = client.post(TOKEN_URL, data=body, content_type="application/json")
    assert response.status_code == 400
    error = _api_error(response)
    assert (error["code"], error["location"]) == (code, location)


@pytest.mark.parametrize(
    "payload",
    [
        {"email": 5, "password": "x"},
        {"email": "reader@example.com", "password": ["x"]},
        {"email": "reader@example.com", "password": "x", "name": {"a": 1}},
        {"email": "a" * 300 + "@example.com", "password": "x"},
        {"email": "reader@example.com", "password": "x" * 5000},
        {"email": "reader@example.com"},
        [],
    ],
)
def test_token_request_with_wrong_types_or_lengths_is_a_json_400(client, site, payload):
    response = client.post(TOKEN_URL, data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 400
    error = _api_error(response)
    assert error["code"] == "invalid_request"
    assert error["fields"]


def test_form_encoded_token_request_with_a_nul_is_a_json_400(client, site):
    response = client.post(TOKEN_URL, {"email": "reader\x00@example.com", "password": "x"})
    assert response.status_code == 400
    assert _api_error(response)["code"] == "invalid_nul"


def test_an_email_with_a_nul_is_refused_before_the_sign_in_rate_limit_counts_it(client, site):
    body = '{"email": "reader@example.com\\u0000", "password": "wrong"}'
    for _ in range(8):
        assert client.post(TOKEN_URL, data=body, content_type="application/json").status_code == 400
    good = {"email": "reader@example.com", "password": "correct-horse-42"}
    response = client.post(TOKEN_URL, data=json.dumps(good), content_type="application/json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/search/", {"q": "wor\x00ld"}),
        ("get", "/", {"page": "\x00"}),
        ("get", "/world/", {"page": "1\x00"}),
        ("get", "/world/a%00b/", {}),
        ("get", "/tags/a%00b/", {}),
        ("get", "/feeds/rss/", {"x": "\x00"}),
        ("post", "/accounts/login/", {"login": "reader\x00@example.com", "password": "x"}),
        ("post", "/accounts/signup/", {"email": "a\x00@example.com", "password1": "x"}),
    ],
)
def test_site_request_with_a_nul_gets_the_helpful_400_page(client, site, method, path, data):
    response = getattr(client, method)(path, data)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>We could not understand that request</h1>" in page
    assert "contains a NUL character" in page
    assert "front page" in page


def test_site_query_of_broken_utf8_is_read_as_text_not_a_500(client, site):
    response = client.get("/search/?q=%ff%fe%ed%a0%80")
    assert response.status_code == 200


def test_a_session_cookie_with_a_nul_is_dropped_not_a_500(client, site):
    client.cookies["sessionid"] = "abc\x00def" * 4
    response = client.get(site.url)
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()


def test_the_nul_really_would_reach_the_database(site):
    """Guards the tests above against passing vacuously on PostgreSQL: the raw lookup fails."""
    from django.db import DataError

    from masthead.newsroom.models import SectionPage

    if connection.vendor != "postgresql":
        # SQLite stores NUL; the 400 is still the contract there, so the tests above run too.
        assert not SectionPage.objects.filter(slug="wor\x00ld").exists()
        return
    with pytest.raises(DataError), transaction.atomic():
        SectionPage.objects.filter(slug="wor\x00ld").exists()
