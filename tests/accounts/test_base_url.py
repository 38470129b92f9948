"""Every absolute URL in e-mails, feeds and API responses uses the configured base URL
(SITE_URL), whatever host the request arrived on."""

import re

import pytest
from django.core import mail

from tests import factories

pytestmark = pytest.mark.django_db

BASE = "https://news.example:8443"
URL = re.compile(r"""https?://[^\s"'<>)\]]+""")


@pytest.fixture(autouse=True)
def site_base_url(settings):
    settings.SITE_URL = BASE
    settings.ALLOWED_HOSTS = ["testserver", "elsewhere.test"]


def assert_on_base(text: str, *, at_least: int = 1) -> list[str]:
    found = [u for u in URL.findall(text) if "w3.org" not in u and "purl.org" not in u]
    assert len(found) >= at_least, text
    strays = [u for u in found if not u.startswith(BASE + "/")]
    assert strays == []
    return found


def test_confirmation_email_links_to_the_base_url_and_reads_well(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        HTTP_HOST="elsewhere.test",
    )
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.subject == "Confirm your e-mail address for The Meridian Review"
    assert "[" not in message.subject and "elsewhere.test" not in message.body
    assert "Hello from" not in message.body
    assert_on_base(message.body, at_least=2)


def test_password_reset_email_links_to_the_base_url(client):
    factories.user("reader@example.com")
    client.post(
        "/accounts/password/reset/", {"email": "reader@example.com"}, HTTP_HOST="elsewhere.test"
    )
    message = mail.outbox[-1]
    assert "[" not in message.subject
    assert_on_base(message.body)


def test_feeds_use_the_base_url(client):
    article = factories.article("Harbour lights", body=factories.paragraphs(3))
    for feed in ("/feeds/rss/", "/feeds/atom/"):
        body = client.get(feed, HTTP_HOST="elsewhere.test").content.decode()
        links = assert_on_base(body, at_least=2)
        assert f"{BASE}{article.url}" in links


def test_api_uses_the_base_url_with_or_without_a_trailing_slash(client):
    factories.article("Harbour lights", body=factories.paragraphs(3))
    body = client.get("/api/v1/articles", HTTP_HOST="elsewhere.test").content.decode()
    assert_on_base(body)
    slashed = client.get("/api/v1/articles/?page=1")
    assert (slashed.status_code, slashed["Location"]) == (308, "/api/v1/articles?page=1")
