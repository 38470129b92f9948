"""The gift pages for every reader (anonymous, registered, trialist, subscriber, lapsed, past
due, staff), bad input as form errors that keep the fields, and redeem pages that help."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client

from masthead.billing.models import LedgerEntry, Payment
from masthead.core import clock
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftStatus, GiftSubscription
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.gifts import support as states
from tests.giftsubs import support

pytestmark = pytest.mark.django_db

CARD = {"number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return client


def form(**overrides):
    data = {
        "checkout_key": "k" * 32,
        "months": "6",
        "recipient_name": "Rosa Diaz",
        "recipient_email": "rosa@example.com",
        "message": "For the train rides",
        "deliver_on": "",
        **CARD,
    }
    data.update(overrides)
    return data


@pytest.fixture
def now():
    return clock.now()


@pytest.fixture
def readers(now):
    return states.readers(now)


def test_every_reader_sees_the_prices_and_only_signed_in_readers_the_form(readers):
    for name, user in readers.items():
        response = client_for(user).get("/gift/")
        assert response.status_code == 200, name
        body = response.content.decode()
        assert "Give a subscription" in body
        for price in ("$15", "$45", "$90", "$180"):
            assert price in body, (name, price)
        assert ('name="recipient_email"' in body) is (user is not None), name
        assert ("sign in" in body) is (user is None), name


@pytest.mark.parametrize(
    "name", ["registered", "trialist", "subscriber", "lapsed", "past due", "staff"]
)
def test_every_signed_in_reader_can_buy_a_gift(readers, name):
    buyer = readers[name]
    response = client_for(buyer).post("/gift/", form())
    gift = GiftSubscription.objects.get(buyer=buyer)
    assert response.status_code == 302 and response["Location"] == f"/gift/{gift.pk}/thanks/"
    assert gift.months == 6 and gift.price_minor == 9000
    assert gift.status == GiftStatus.DELIVERED
    thanks = client_for(buyer).get(response["Location"])
    assert "Thank you for your gift" in thanks.content.decode()
    assert client_for(factories.user()).get(response["Location"]).status_code == 404


def test_anonymous_cannot_post_a_purchase(now):
    states.monthly()
    response = Client().post("/gift/", form())
    assert response.status_code == 200
    assert not Payment.objects.exists() and not GiftSubscription.objects.exists()


def test_a_double_submitted_form_is_one_gift(now):
    states.monthly()
    buyer = factories.user()
    client = client_for(buyer)
    client.post("/gift/", form())
    client.post("/gift/", form())
    assert GiftSubscription.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="charge").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("deliver_on", "2001-01-01", "Choose today or a day in the future."),
        ("deliver_on", "not a date", "Enter a date like 2026-12-24."),
        ("recipient_email", "rosa-at-example", "Enter an e-mail address like name@example.com."),
        ("months", "7", "Choose 1, 3, 6 or 12 months."),
        ("recipient_name", "   ", "This field is required."),
        ("number", "4242 4242 4242 4241", "Enter a valid card number."),
    ],
)
def test_bad_input_is_a_form_error_that_keeps_the_fields(now, field, value, error):
    states.monthly()
    response = client_for(factories.user()).post("/gift/", form(**{field: value}))
    assert response.status_code == 200
    body = response.content.decode()
    assert error in body
    assert ('id="months-error"' if field == "months" else 'aria-invalid="true"') in body
    if field != "recipient_email":
        assert 'value="rosa@example.com"' in body
    if field != "recipient_name":
        assert 'value="Rosa Diaz"' in body
    assert "For the train rides" in body
    assert 'value="4242' not in body  # the card number is never written back
    assert not Payment.objects.exists()


def test_a_date_more_than_a_year_ahead_is_refused(now):
    states.monthly()
    day = (actions.today(now) + timedelta(days=366)).isoformat()
    response = client_for(factories.user()).post("/gift/", form(deliver_on=day))
    assert "Choose a day within a year from today." in response.content.decode()
    assert f'value="{day}"' in response.content.decode()


def test_a_declined_card_keeps_the_gift_fields(now):
    states.monthly()
    response = client_for(factories.user()).post("/gift/", form(number="4000 0000 0000 0002"))
    body = response.content.decode()
    assert "Your card was declined" in body
    assert 'value="rosa@example.com"' in body and 'value="12/30"' in body
    assert not GiftSubscription.objects.exists()


def test_a_dated_gift_says_when_it_will_be_delivered(now):
    states.monthly()
    day = actions.today(now) + timedelta(days=30)
    buyer = factories.user()
    response = client_for(buyer).post("/gift/", form(deliver_on=day.isoformat()))
    gift = GiftSubscription.objects.get()
    assert gift.status == GiftStatus.PURCHASED
    thanks = client_for(buyer).get(response["Location"]).content.decode()
    assert f"By e-mail on {day:%B} {day.day}, {day.year}" in thanks


def test_redeem_page_for_every_reader(now, readers):
    for name, user in readers.items():
        gift, code = support.delivered(now, email=f"{name.replace(' ', '')}@example.com")
        url = f"/gift/redeem/{code}/"
        page = client_for(user).get(url)
        body = page.content.decode()
        if user is None:
            assert page.status_code == 200
            assert f"/accounts/login/?next={url}" in body and "create a free account" in body
            assert Client().post(url).status_code == 200  # anonymous: shown the page again
            continue
        if name == "past due":
            assert page.status_code == 409 and "Settle your payment first" in body
            continue
        assert page.status_code == 200, name
        assert "Redeem my gift" in body
        assert ("added after your current period" in body) is (
            name in ("trialist", "subscriber")
        ), name
        done = client_for(user).post(url)
        assert (done.status_code, done["Location"]) == (302, "/account/subscription/"), name
        gift.refresh_from_db()
        assert gift.status == GiftStatus.REDEEMED and gift.recipient == user, name
        live = Subscription.objects.exclude(status=Status.EXPIRED).get(user=user)
        expected = Status.COMPLIMENTARY if name in ("registered", "lapsed", "staff") else None
        if expected:
            assert live.status == expected, name


@pytest.mark.parametrize(
    ("make", "status", "title"),
    [
        ("unknown", 404, "We could not find that gift"),
        ("used", 410, "This gift has already been redeemed"),
        ("refunded", 410, "This gift was cancelled"),
        ("expired", 410, "This gift has expired"),
    ],
)
def test_bad_codes_get_a_helpful_page(now, make, status, title):
    gift, code = support.delivered(now)
    if make == "unknown":
        code = "A" * 32
    elif make == "used":
        actions.redeem(code, factories.user(), now=now)
    elif make == "refunded":
        actions.refund(gift, now=now, actor=factories.user(staff=True), reason="test")
    else:
        clock.advance(timedelta(days=366))
    for user in (None, factories.user()):
        for method in ("get", "post"):
            response = getattr(client_for(user), method)(f"/gift/redeem/{code}/")
            assert response.status_code == status, (make, user, method)
            assert title in response.content.decode()
    clock.reset()


def test_a_very_long_or_odd_code_is_not_found_never_a_500(now):
    for code in ["x" * 300, "%00", "..", "a b"]:
        response = Client().get(f"/gift/redeem/{code}/")
        assert response.status_code in (400, 404), code  # \0 is refused by Django itself


def test_offers_page_links_to_gifts(now):
    states.monthly()
    assert 'href="/gift/"' in Client().get("/offers/").content.decode()


def test_the_buyer_sees_the_gift_receipt_without_the_deferral_rows(now):
    gift, _ = support.delivered(now, months=3)
    client = client_for(gift.buyer)
    account = client.get("/account/subscription/").content.decode()
    assert gift.sale.receipt_number in account
    receipt = client.get(f"/account/invoices/{gift.sale.pk}/").content.decode()
    assert "$45" in receipt and "Gift subscription: 3 months" in receipt
    assert "Deferred" not in receipt
    actions.refund(gift, now=now, actor=factories.user(staff=True), reason="test")
    receipt = client.get(f"/account/invoices/{gift.sale.pk}/").content.decode()
    assert "Refund" in receipt and "-$45" in receipt and "Deferred" not in receipt
