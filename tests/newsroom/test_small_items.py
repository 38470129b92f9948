"""Issue 10's small items: compressed HTML, the print view, the sponsor named in the header."""

import gzip

import pytest

from masthead.newsroom.models import AccessLevel, Sponsor
from tests import factories

pytestmark = pytest.mark.django_db


def test_html_is_gzip_compressed_for_clients_that_accept_it(client):
    article = factories.article("Harbour lights", body=factories.paragraphs(8))
    response = client.get(article.url, HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    assert "Harbour lights" in gzip.decompress(response.content).decode()
    assert "Content-Encoding" not in client.get(article.url)


def test_print_view_has_a_print_button_and_no_meter_share_or_related(client):
    article = factories.article("Harbour lights", body=factories.paragraphs(8))
    html = client.get(f"{article.url}print/").content.decode()
    # No inline handler (the CSP refuses them): an external script wires the button.
    assert 'class="button button--small print-button" hidden>Print</button>' in html
    assert "masthead/print.js" in html and "onclick" not in html
    assert 'class="meter' not in html and "free articles left" not in html


def test_sponsored_article_names_the_sponsor_in_its_header(client):
    sponsor = Sponsor.objects.create(name="Partner Studio", url="https://partner.example/")
    article = factories.article(
        "Ports of tomorrow", access_level=AccessLevel.FREE, sponsored=True, sponsor=sponsor
    )
    html = client.get(article.url).content.decode()
    assert (
        'Paid for by <a href="https://partner.example/" rel="sponsored noopener">Partner Studio</a>'
    ) in html
