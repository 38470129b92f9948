"""The way in and back: the offer carried through sign-in and sign-up, checkout's terms, the
return to the article with "continue reading", and the trialist's account and offers pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masthead.subscriptions import actions
from tests import factories
from tests.subscriptions.conftest import consent_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 5, 16, 0, tzinfo=UTC)
GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr("masthead.core.clock.now", lambda: NOW)


def test_sign_in_and_sign_up_show_the_chosen_offer_and_carry_next(client, catalog):
    article = factories.article("Harbour lights", body=factories.paragraphs(6))
    checkout = f"/checkout/offer/one-month/?next={article.url}"
    response = client.get(checkout)
    assert response.status_code == 302
    login_url = response["Location"]
    assert login_url.startswith("/accounts/login/?next=")
    html = client.get(login_url).content.decode()
    assert '<h2 id="auth-aside-heading" class="auth__aside-title">Your offer</h2>' in html
    assert "Try 1 month for $0.99, then $15 a month, cancel any time." in html
    assert "Create a free account" in html
    signup = html.split('class="button button--secondary" href="')[1].split('"')[0]
    assert signup.startswith("/accounts/signup/?next=%2Fcheckout%2Foffer%2Fone-month%2F")
    page = client.get(signup).content.decode()
    assert "Your offer" in page and "Try 1 month for $0.99" in page
    assert 'name="next" value="/checkout/offer/one-month/?next=' in page


def test_sign_in_from_the_paywall_names_the_article(client):
    article = factories.article("Harbour lights", body=factories.paragraphs(6))
    html = client.get(f"/accounts/login/?next={article.url}").content.decode()
    assert "You will come back to “Harbour lights” when you are done." in html


def test_a_foreign_next_is_ignored(client):
    html = client.get("/accounts/login/?next=https://evil.example/").content.decode()
    assert "Why an account?" in html


def test_checkout_states_today_the_full_price_date_and_how_to_cancel(client, catalog):
    client.force_login(factories.user("reader@example.com"))
    html = client.get("/checkout/offer/one-month/").content.decode()
    assert "<dt>Due today</dt><dd>$0.99</dd>" in html
    assert "$15 a month from November 5, 2026 until you cancel" in html
    assert "Cancel any time before November 5, 2026 from your account page" in html
    trial = client.get("/checkout/offer/free-trial/").content.decode()
    assert "<dt>Due today</dt><dd>$0</dd>" in trial or "<dt>Due today</dt><dd>$0.00</dd>" in trial
    assert "October 19, 2026" in trial


def test_after_paying_the_reader_returns_to_the_article_to_continue_reading(client, catalog):
    article = factories.article("Harbour lights", body=factories.paragraphs(6))
    client.force_login(factories.user("reader@example.com"))
    url = f"/checkout/offer/one-month/?next={article.url}"
    response = client.post(url, {"checkout_key": "k" * 32, **GOOD_CARD, **consent_for(client, url)})
    assert response.status_code == 302
    assert response["Location"] == article.url
    html = client.get(article.url).content.decode()
    assert (
        '<p class="site-message" role="status">Welcome! You now have full access to '
        "The Meridian Review. Continue reading below.</p>"
    ) in html


def test_checkout_never_sends_the_reader_to_another_host(client, catalog):
    client.force_login(factories.user("reader@example.com"))
    url = "/checkout/offer/one-month/?next=//evil.example/"
    response = client.post(url, {"checkout_key": "k" * 32, **GOOD_CARD, **consent_for(client, url)})
    assert response["Location"] == "/account/subscription/"


def test_trialist_is_asked_for_a_card_before_the_trial_ends(client, catalog):
    user = factories.user("trialist@example.com")
    actions.start_trial(user, catalog.trial, now=NOW, card=None, checkout_key="t" * 32)
    client.force_login(user)
    html = client.get("/account/subscription/").content.decode()
    callout = html.index('id="add-card-heading"')
    assert callout < html.index("Cancel trial")
    assert "Your free trial ends on October 19, 2026. Add a card now" in html
    assert '<h2 id="card-heading">Add a card</h2>' in html
    assert "Update your card" not in html
    offers = client.get("/offers/").content.decode()
    assert "You already have full access" not in offers
    assert "You are on a free trial until October 19, 2026." in offers
