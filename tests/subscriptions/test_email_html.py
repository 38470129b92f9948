"""Every e-mail goes out as plain text with an HTML alternative in the site's design: inline
styles, links on the configured base URL, and the same words as the text part."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.core import mail

from masthead.core.mail_html import html_alternative
from masthead.subscriptions import actions, emails
from tests import factories
from tests.subscriptions.conftest import NOW, card

pytestmark = pytest.mark.django_db

BASE = "https://news.example:8443"
HREF = re.compile(r'href="([^"]+)"')
TEXT_URL = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.SITE_URL = BASE
    settings.ALLOWED_HOSTS = ["testserver", "elsewhere.test"]


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def html_part(message) -> str:
    htmls = [content for content, mimetype in message.alternatives if mimetype == "text/html"]
    assert len(htmls) == 1, message.subject
    return htmls[0]


def visible_words(markup: str) -> list[str]:
    body = re.search(r"<body.*?</body>", markup, re.S).group(0)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", body)).split()


def assert_designed_alternative(message) -> None:
    markup = html_part(message)
    assert markup.startswith("<!doctype html>") and '<html lang="en">' in markup
    assert "<style" not in markup and 'style="' in markup  # inline styles only
    assert f"<title>{html_lib.escape(message.subject)}</title>" in markup
    hrefs = HREF.findall(markup)
    assert hrefs and all(h.startswith(BASE + "/") for h in hrefs), hrefs
    # Every link of the text part is a link of the HTML part, and no other.
    text_links = set(TEXT_URL.findall(message.body))
    assert text_links <= set(hrefs), (text_links, hrefs)
    assert set(hrefs) - text_links <= {BASE + "/"}  # the masthead and the footer
    # The same words: everything the text says (URLs aside, which became links) is there.
    words = visible_words(markup)
    for word in TEXT_URL.sub(" ", message.body).split():
        assert word.rstrip(":") in " ".join(words), (word, message.subject)
    assert "127.0.0.1" not in markup and "elsewhere.test" not in markup


def test_every_lifecycle_email_has_a_designed_html_alternative(catalog, committing):
    reader = factories.user("lin@example.com")
    with committing():
        sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    with committing():
        for kind in ("trial_ending", "payment_failed", "cancelled", "expired"):
            emails.on_commit(kind, sub)
    kinds = [m.subject for m in mail.outbox]
    assert len(kinds) == 6, kinds
    for message in mail.outbox:
        assert message.body.strip()
        assert_designed_alternative(message)
    receipt = next(m for m in mail.outbox if m.subject.startswith("Your receipt"))
    markup = html_part(receipt)
    # "View it online: <url>" is a button named by its label.
    assert re.search(
        rf'<a href="{BASE}/account/invoices/\d+/" style="[^"]*">View it online</a>', markup
    )


def test_account_emails_have_a_designed_html_alternative(client):
    client.post(
        "/accounts/signup/",
        {
            "email": "new@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
        HTTP_HOST="elsewhere.test",
    )
    factories.user("reader@example.com")
    client.post(
        "/accounts/password/reset/", {"email": "reader@example.com"}, HTTP_HOST="elsewhere.test"
    )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert_designed_alternative(message)


def test_text_is_escaped_and_sentences_before_a_link_stay_text():
    markup = html_alternative(
        "Hello <you>",
        "Line one & <b>two</b>\nsecond line\n\nYour trial ended. See all offers: "
        f"{BASE}/offers/\n\nPlain {BASE}/account/ link.",
    )
    assert "<title>Hello &lt;you&gt;</title>" in markup
    assert "Line one &amp; &lt;b&gt;two&lt;/b&gt;<br>second line</p>" in markup
    assert "Your trial ended.</p>" in markup
    assert re.search(rf'<a href="{BASE}/offers/" style="[^"]*">See all offers</a>', markup)
    assert re.search(
        rf'Plain <a href="{BASE}/account/" style="[^"]*">{BASE}/account/</a> link.', markup
    )
