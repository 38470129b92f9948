"""Reader pages: offers, checkout (with bad input), the account page, receipts, and the
permission matrix over every account and checkout endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from masthead.billing.models import EntryKind, LedgerEntry, PaymentMethod
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.subscriptions.conftest import card, consent_for

pytestmark = pytest.mark.django_db

GOOD_CARD = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}


def checkout(client, url, key="a" * 32, **fields):
    agreed = consent_for(client, url)
    return client.post(url, {"checkout_key": key, **GOOD_CARD, **agreed, **fields})


@pytest.fixture
def reader(client):
    user = factories.user("reader@example.com")
    client.force_login(user)
    return user


def test_offers_page_lists_offers_plans_and_benefits(client, catalog):
    catalog.one_month.ends_at = timezone.make_aware(timezone.datetime(2026, 11, 1, 0, 0))
    catalog.one_month.save()
    clock_now = timezone.make_aware(timezone.datetime(2026, 10, 5, 12, 0))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(clock, "now", lambda: clock_now)
        html = client.get("/offers/").content.decode()
    assert "See all offers and subscribe" in html
    assert "Try 1 month for $0.99" in html
    assert "Try 3 months for $9" in html
    assert "Offer ends October 31st" in html
    assert "Read all stories with unlimited access" in html
    assert "Use our mobile and tablet apps" in html
    assert "$15 a month" in html and "$150 a year" in html
    assert "Try free for 7 days" not in html  # link-only offer stays off the page
    assert "{{" not in html


def test_ended_offer_disappears_by_itself(client, catalog, monkeypatch):
    ends = timezone.make_aware(timezone.datetime(2026, 11, 1, 0, 0))
    catalog.one_month.ends_at = ends
    catalog.one_month.save()
    monkeypatch.setattr(clock, "now", lambda: ends)
    html = client.get("/offers/").content.decode()
    assert "Try 1 month for $0.99" not in html
    assert "Try 3 months for $9" in html


def test_checkout_with_test_card_subscribes_at_the_server_price(client, catalog, reader):
    response = checkout(client, "/checkout/offer/one-month/", price="1", amount_minor="1")
    assert response.status_code == 302 and response["Location"] == "/account/subscription/"
    sub = Subscription.objects.get(user=reader)
    assert (sub.status, sub.offer) == (Status.ACTIVE, catalog.one_month)
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.objects.all()] == [("charge", 99)]
    method = PaymentMethod.objects.get(user=reader)
    assert (method.brand, method.last4) == ("Visa", "4242")
    assert "4242424242424242" not in method.provider_ref
    page = client.get("/account/subscription/").content.decode()
    assert "Visa ending 4242" in page and "Active" in page and "$0.99" in page


def test_double_clicked_checkout_charges_once(client, catalog, reader):
    first = checkout(client, "/checkout/offer/one-month/")
    second = checkout(client, "/checkout/offer/one-month/")
    assert (first.status_code, second.status_code) == (302, 302)
    assert Subscription.objects.filter(user=reader).count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 1


def test_second_checkout_with_a_new_form_is_refused_clearly(client, catalog, reader):
    checkout(client, "/checkout/offer/one-month/")
    response = checkout(client, "/checkout/plan/annual/", key="b" * 32)
    assert "You already have a subscription" in response.content.decode()
    assert LedgerEntry.objects.count() == 1


def test_declined_card_shows_a_clear_message_and_creates_nothing(client, catalog, reader):
    response = checkout(client, "/checkout/offer/one-month/", number="4000 0000 0000 0002")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Your card was declined. Try another card." in html
    assert "4000 0000 0000 0002" not in html and "4000000000000002" not in html
    assert Subscription.objects.count() == 0 and LedgerEntry.objects.count() == 0


def field_input(html: str, name: str) -> str:
    import re

    return re.search(rf'<input type="text" name="{name}"[^>]*>', html).group(0)


def test_a_decline_keeps_every_non_secret_field_and_never_echoes_the_card(client, catalog, reader):
    response = checkout(
        client,
        "/checkout/offer/one-month/?next=/world/story/",
        number="4000 0000 0000 0002",
        expiry="07/31",
        cvc="987",
    )
    html = response.content.decode()
    assert "Your card was declined. Try another card." in html
    assert 'value="07/31"' in field_input(html, "expiry")
    assert "value=" not in field_input(html, "number")
    assert "value=" not in field_input(html, "cvc")
    assert "4000000000000002" not in html and "0002" not in html and "987" not in html
    # Still the chosen offer (the URL, with where to go back to, is kept by posting to it).
    assert "<h1>" + catalog.one_month.headline + "</h1>" in html
    assert response.request["QUERY_STRING"] == "next=/world/story/"
    # A fresh idempotency key: trying another card is a new payment attempt.
    assert 'value="' + "a" * 32 + '"' not in html


def test_a_validation_error_keeps_the_expiry_but_not_the_card_number_or_cvc(
    client, catalog, reader
):
    html = checkout(
        client,
        "/checkout/plan/monthly/",
        number="4242 4242 4242 4241",
        expiry="08/33",
        cvc="12",
    ).content.decode()
    assert "Enter a valid card number." in html and "Enter the 3 or 4 digits" in html
    assert 'value="08/33"' in field_input(html, "expiry")
    assert "value=" not in field_input(html, "number") and "4241" not in html
    assert "value=" not in field_input(html, "cvc")
    assert Subscription.objects.count() == 0


def test_kept_values_are_escaped(client, catalog, reader):
    html = checkout(client, "/checkout/plan/monthly/", expiry='"><b>x').content.decode()
    assert 'value="&quot;&gt;&lt;b&gt;x"' in field_input(html, "expiry")
    assert "<b>x" not in html


def test_invalid_card_fields_are_explained(client, catalog, reader):
    response = checkout(client, "/checkout/plan/monthly/", number="1234", expiry="13/30", cvc="x")
    html = response.content.decode()
    assert "Enter a valid card number." in html
    assert "Enter a month between 01 and 12." in html
    assert "Enter the 3 or 4 digits" in html
    assert Subscription.objects.count() == 0


def test_unknown_offer_code_gets_a_helpful_page(client, catalog, reader):
    response = client.get("/checkout/offer/no-such-offer/")
    assert response.status_code == 404
    assert "We could not find that offer" in response.content.decode()
    assert "See all offers and subscribe" in response.content.decode()


def test_expired_offer_code_gets_a_helpful_page_and_sells_nothing(client, catalog, reader):
    catalog.one_month.ends_at = clock.now() - timedelta(days=1)
    catalog.one_month.save()
    assert client.get("/checkout/offer/one-month/").status_code == 410
    response = checkout(client, "/checkout/offer/one-month/")
    assert response.status_code == 410
    assert "This offer has ended." in response.content.decode()
    assert Subscription.objects.count() == 0


def test_offer_is_once_per_reader(client, catalog, reader):
    sub = actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=clock.now())
    actions.cancel(sub, now=clock.now(), immediately=True)
    response = checkout(client, "/checkout/offer/one-month/")
    assert "You have already used this offer." in response.content.decode()
    assert LedgerEntry.objects.count() == 1


def test_trial_without_card_needs_no_card_fields(client, catalog, reader):
    page = client.get("/checkout/offer/free-trial/").content.decode()
    assert 'name="number"' not in page and "Start my free trial" in page
    client.post("/checkout/offer/free-trial/", {"checkout_key": "c" * 32})
    sub = Subscription.objects.get(user=reader)
    assert (sub.status, sub.auto_renew) == (Status.TRIALING, False)


def test_cancel_then_resume_from_the_account_page(client, catalog, reader):
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=clock.now())
    client.post("/account/subscription/cancel/")
    sub = Subscription.objects.get(user=reader)
    assert sub.status == Status.CANCELLED
    page = client.get("/account/subscription/").content.decode()
    assert "You keep full access until" in page and "Resume subscription" in page
    client.post("/account/subscription/resume/")
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE


def test_change_plan_shows_the_exact_charge_then_applies_it(client, catalog, reader):
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=clock.now())
    page = client.get("/account/subscription/change/annual/").content.decode()
    preview = actions.preview_plan_change(
        Subscription.objects.get(user=reader), catalog.annual, now=clock.now()
    )
    assert f'Charged today</dt><dd class="charge">{preview.charge_text}' in page
    assert preview.credit_text in page
    # A forged amount is not charged: the reader sees the real amount to confirm again.
    forged = client.post(
        "/account/subscription/change/annual/",
        {
            "immediate": "1",
            "charge_minor": "1",
            "credit_minor": str(preview.credit_minor),
            **consent_for(client, "/account/subscription/change/annual/"),
        },
    )
    assert "The amount changed since you looked" in forged.content.decode()
    assert LedgerEntry.objects.count() == 1
    client.post(
        "/account/subscription/change/annual/",
        {
            "immediate": "1",
            "charge_minor": str(preview.charge_minor),
            "credit_minor": str(preview.credit_minor),
            **consent_for(client, "/account/subscription/change/annual/"),
        },
    )
    assert Subscription.objects.get(user=reader).plan == catalog.annual
    assert sum(e.amount_minor for e in LedgerEntry.objects.all()) == 1500 + preview.charge_minor


def test_receipt_page_shows_the_charge_and_its_refund(client, catalog, reader):
    actions.subscribe(reader, offer=catalog.three_months, card=card(reader), now=clock.now())
    charge = LedgerEntry.objects.get()
    actions.refund(charge, now=clock.now(), actor=None, reason="Goodwill", amount_minor=300)
    html = client.get(f"/account/invoices/{charge.pk}/").content.decode()
    assert charge.receipt_number in html and "$9" in html and "-$3" in html


# ---------------------------------------------------------------- permission matrix

OWNER_GETS = ["/account/subscription/", "/account/subscription/change/annual/"]
POSTS = [
    "/account/subscription/cancel/",
    "/account/subscription/resume/",
    "/account/payment-method/",
    "/checkout/offer/one-month/",
    "/checkout/plan/monthly/",
]


@pytest.fixture
def owned(catalog):
    owner = factories.user("owner@example.com")
    sub = actions.subscribe(owner, plan=catalog.monthly, card=card(owner), now=clock.now())
    return owner, sub, LedgerEntry.objects.get(subscription=sub)


def snapshot(owner):
    sub = Subscription.objects.get(user=owner)
    method = PaymentMethod.current_for(owner.pk)
    return (
        sub.status,
        sub.plan_id,
        sub.auto_renew,
        method.pk,
        LedgerEntry.objects.filter(user=owner).count(),
    )


@pytest.mark.parametrize(
    "url",
    [*OWNER_GETS, "/account/invoices/{receipt}/", "/checkout/return/", *POSTS],
)
def test_anonymous_is_sent_to_login_everywhere(client, owned, url):
    owner, _, receipt = owned
    before = snapshot(owner)
    url = url.format(receipt=receipt.pk)
    for method in (client.get, client.post):
        response = method(url, GOOD_CARD)
        if response.status_code == 405:
            continue
        assert response.status_code == 302
        assert response["Location"].startswith(f"/accounts/login/?next={url}")
    assert snapshot(owner) == before


@pytest.mark.parametrize("staff", [False, True], ids=["another reader", "staff"])
def test_another_reader_or_staff_cannot_see_or_change_the_owners_subscription(client, owned, staff):
    owner, _, receipt = owned
    other = factories.user("other@example.com", staff=staff)
    client.force_login(other)
    before = snapshot(owner)
    assert client.get(f"/account/invoices/{receipt.pk}/").status_code == 404
    page = client.get("/account/subscription/").content.decode()
    assert "You do not have a subscription" in page
    assert "owner@example.com" not in page and receipt.receipt_number not in page
    assert "4242" not in page
    for url in POSTS:
        client.post(url, {"checkout_key": "d" * 32, **GOOD_CARD, **consent_for(client, url)})
    assert snapshot(owner) == before
    # what the other reader did only touched their own account
    assert Subscription.objects.get(user=other).plan.slug == "monthly"


def test_owner_sees_and_changes_their_own(client, owned):
    owner, sub, receipt = owned
    client.force_login(owner)
    assert client.get(f"/account/invoices/{receipt.pk}/").status_code == 200
    assert "Visa ending 4242" in client.get("/account/subscription/").content.decode()
    client.post("/account/subscription/cancel/")
    sub.refresh_from_db()
    assert sub.status == Status.CANCELLED
