"""A reader's whole Stripe life through Masthead's pages, against the local Stripe double:
Checkout and the return page, cancel, resume, plan change, staff end-now, refunds, the
customer portal. What Stripe sends back is delivered as signed webhooks in the pinned shape."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masthead.billing import provider_events as pe
from masthead.billing.models import LedgerEntry, ProviderCustomer, WebhookEvent
from masthead.billing.stripe import events as stripe_events
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.entitlements import entitlement_for
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent
from tests import factories
from tests.billing import stripe_shapes as shapes
from tests.subscriptions.conftest import consent_for

pytestmark = pytest.mark.django_db(transaction=True)  # the request commits; its task runs
DAY = 86400


@pytest.fixture
def stripe_now(stripe_double, monkeypatch):
    """Masthead's clock and the double's clock are one clock (Stripe's event times and
    Masthead's business time agree, as they do in production)."""
    stripe_double.now = 1_790_000_000

    def now() -> datetime:
        return datetime.fromtimestamp(stripe_double.now, tz=UTC)

    monkeypatch.setattr(clock, "now", now)
    return now


@pytest.fixture
def priced(catalog):
    catalog.monthly.stripe_price_id = "price_monthly"
    catalog.monthly.save()
    catalog.annual.stripe_price_id = "price_annual"
    catalog.annual.save()
    return catalog


@pytest.fixture
def reader(client):
    user = factories.user("round-trip@example.com")
    client.force_login(user)
    return user


def deliver_all(deliver, stripe_double) -> list[dict]:
    """Hand every event the double produced to the webhook endpoint, in Stripe's order."""
    answers = []
    for event in stripe_double.take_events():
        response = deliver(event)
        assert response.status_code == 200, (event["type"], response.content)
        answers.append(response.json())
    return answers


def check_out(client, stripe_double, plan: str = "monthly") -> str:
    url = f"/checkout/plan/{plan}/"
    response = client.post(
        url, {"checkout_key": f"checkout-key-for-{plan}", **consent_for(client, url)}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(f"{stripe_double.url}/pay/cs_test_")
    return response["Location"].rsplit("/", 1)[1]


@pytest.fixture
def subscribed(client, reader, priced, stripe_double, stripe_now, deliver):
    session = check_out(client, stripe_double)
    stripe_double.complete_checkout(session)
    deliver_all(deliver, stripe_double)
    return Subscription.objects.get(user=reader)


def test_checkout_round_trip(client, reader, priced, stripe_double, stripe_now, deliver):
    session = check_out(client, stripe_double)
    sent = next(r for r in stripe_double.requests if r.path == "/v1/checkout/sessions")
    customer = ProviderCustomer.objects.get(user=reader).provider_ref
    assert sent.params["customer"] == customer
    assert sent.params["line_items"] == [{"price": "price_monthly", "quantity": "1"}]
    # Back from Stripe before paying: nothing granted.
    waiting = client.get(f"/checkout/return/?session_id={session}")
    assert waiting.status_code == 200
    assert b"We are waiting for the payment provider" in waiting.content
    stripe_double.complete_checkout(session)
    events = stripe_double.take_events()
    assert [e["type"] for e in events] == [
        "customer.subscription.created",
        "invoice.paid",
        "invoice.payment_succeeded",
        "checkout.session.completed",
    ]
    # The reader is back before any webhook: the return page asks Stripe about the session.
    back = client.get(f"/checkout/return/?session_id={session}")
    assert b"Your payment is confirmed and you have full access." in back.content
    sub = Subscription.objects.get(user=reader)
    assert (sub.status, sub.provider, sub.plan.slug) == (Status.ACTIVE, "stripe", "monthly")
    # Then the webhooks arrive: the first payment is recorded once.
    for event in events:
        assert deliver(event).status_code == 200
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.objects.filter(subscription=sub)] == [
        ("charge", 1500)
    ]
    assert entitlement_for(reader.pk, now=stripe_now()).reads_everything
    assert WebhookEvent.objects.count() == 4


def test_the_return_page_ignores_another_readers_session(
    client, reader, priced, stripe_double, stripe_now
):
    other = factories.user("other@example.com")
    client.force_login(other)
    session = check_out(client, stripe_double)
    stripe_double.complete_checkout(session)
    client.force_login(reader)
    page = client.get(f"/checkout/return/?session_id={session}")
    assert b"We are waiting for the payment provider" in page.content
    assert not Subscription.objects.filter(user=reader).exists()
    assert client.get("/checkout/return/?session_id=cs_nonexistent").status_code == 200


def test_cancel_reaches_stripe_and_a_late_active_event_does_not_undo_it(
    client, subscribed, stripe_double, deliver
):
    stripe_double.now += 3 * DAY
    response = client.post("/account/subscription/cancel/")
    assert response.status_code == 302
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["cancel_at_period_end"] is True
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.auto_renew) == (Status.CANCELLED, False)
    # An "active" event Stripe sent before the cancel arrives late, in the same second as
    # Masthead's change: Stripe's current copy (cancelling) wins.
    from tests.billing import stripe_shapes as shapes

    stale = dict(remote, cancel_at_period_end=False, cancel_at=None)
    deliver(shapes.event("customer.subscription.updated", stale, created=stripe_double.now))
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert subscribed.status == Status.CANCELLED


def test_resume_reaches_stripe(client, subscribed, stripe_double, deliver):
    client.post("/account/subscription/cancel/")
    stripe_double.now += 60
    client.post("/account/subscription/resume/")
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["cancel_at_period_end"] is False
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.auto_renew) == (Status.ACTIVE, True)


def test_staff_end_now_cancels_at_stripe_at_once(subscribed, stripe_double, deliver):
    staff = factories.user("staff@example.com", staff=True)
    actions.cancel(subscribed, now=clock.now(), actor=staff, reason="Chargeback", immediately=True)
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["status"] == "canceled"
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert subscribed.status == Status.EXPIRED


def test_upgrade_is_charged_at_stripe_exactly_as_previewed(
    client, subscribed, stripe_double, deliver
):
    stripe_double.now += 10 * DAY + 7200
    page = client.get("/account/subscription/change/annual/")
    preview = page.context["preview"]
    # Masthead's rule: 1,500 paid x 19 whole days left // 30 = 950 credit.
    assert (preview.immediate, preview.credit_minor, preview.charge_minor) == (True, 950, 14050)
    response = client.post(
        "/account/subscription/change/annual/",
        {
            "immediate": "1",
            "charge_minor": "14050",
            "credit_minor": "950",
            **consent_for(client, "/account/subscription/change/annual/"),
        },
    )
    assert response.status_code == 302
    update = [
        r
        for r in stripe_double.requests
        if r.method == "POST" and r.path.startswith("/v1/subscriptions/")
    ][-1]
    assert update.params["proration_behavior"] == "always_invoice"
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    invoice = stripe_double.invoices[remote["latest_invoice"]]
    assert (invoice["status"], invoice["amount_paid"]) == ("paid", 14050)
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert subscribed.plan.slug == "annual"
    charges = LedgerEntry.objects.filter(subscription=subscribed, kind="charge")
    assert [c.amount_minor for c in charges.order_by("pk")] == [1500, 14050]


def test_a_declined_upgrade_changes_nothing(client, subscribed, stripe_double, deliver):
    stripe_double.now += 10 * DAY
    stripe_double.decline_next_payment = True
    preview = client.get("/account/subscription/change/annual/").context["preview"]
    client.post(
        "/account/subscription/change/annual/",
        {
            "immediate": "1",
            "charge_minor": str(preview.charge_minor),
            "credit_minor": str(preview.credit_minor),
            **consent_for(client, "/account/subscription/change/annual/"),
        },
    )
    subscribed.refresh_from_db()
    assert subscribed.plan.slug == "monthly"
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["items"]["data"][0]["price"]["id"] == "price_monthly"


def test_a_downgrade_changes_the_price_at_stripe_without_charging(
    client, reader, priced, stripe_double, stripe_now, deliver
):
    session = check_out(client, stripe_double, plan="annual")
    stripe_double.complete_checkout(session)
    deliver_all(deliver, stripe_double)
    sub = Subscription.objects.get(user=reader)
    stripe_double.now += 30 * DAY
    preview = client.get("/account/subscription/change/monthly/").context["preview"]
    assert (preview.immediate, preview.charge_minor) == (False, 0)
    client.post(
        "/account/subscription/change/monthly/",
        {
            "immediate": "0",
            "charge_minor": "0",
            "credit_minor": "0",
            **consent_for(client, "/account/subscription/change/monthly/"),
        },
    )
    remote = stripe_double.subscriptions[sub.provider_ref]
    assert remote["items"]["data"][0]["price"]["id"] == "price_monthly"
    assert stripe_double.requests[-1].params["proration_behavior"] == "none"
    assert LedgerEntry.objects.filter(subscription=sub).count() == 1


def test_a_refund_goes_to_the_payment_not_the_invoice(subscribed, stripe_double):
    staff = factories.user("refunds@example.com", staff=True)
    charge = LedgerEntry.objects.get(subscription=subscribed, kind="charge")
    assert charge.provider_ref.startswith("in_")
    entry = actions.refund(
        charge, now=clock.now(), actor=staff, reason="Goodwill", amount_minor=500
    )
    refund = stripe_double.refunds[-1]
    intent = stripe_double.invoice_payments[charge.provider_ref][0]["payment"]["payment_intent"]
    assert (refund["payment_intent"], refund["amount"]) == (intent, 500)
    assert (entry.amount_minor, entry.provider_ref) == (-500, refund["id"])


def test_active_past_due_canceled_at_stripe(subscribed, stripe_double, deliver):
    stripe_double.now += 30 * DAY
    stripe_double.fail_renewal(subscribed.provider_ref)
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert subscribed.status == Status.PAST_DUE
    stripe_double.now += 7 * DAY
    stripe_double.give_up(subscribed.provider_ref)
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert subscribed.status == Status.EXPIRED
    assert LedgerEntry.objects.filter(subscription=subscribed).count() == 1


def test_the_reader_updates_the_card_and_sees_invoices_in_the_stripe_portal(
    client, subscribed, stripe_double
):
    account = client.get("/account/subscription/")
    assert b"Update your card and see your invoices" in account.content
    response = client.post("/billing/portal/")
    assert response.status_code == 302
    assert response["Location"].startswith(f"{stripe_double.url}/portal/bps_")
    sent = stripe_double.requests[-1]
    assert (
        sent.params["customer"] == ProviderCustomer.objects.get(user=subscribed.user).provider_ref
    )
    assert sent.params["return_url"] == "http://testserver/account/subscription/"


def test_the_portal_is_refused_without_stripe(client, reader, settings):
    settings.PAYMENT_PROVIDER = "test"
    assert client.post("/billing/portal/").status_code == 404


# ---- pause (decision 0035): pause_collection at Stripe first, webhooks reconcile ------------


def pause_requests(stripe_double) -> list:
    return [
        r
        for r in stripe_double.requests
        if r.method == "POST"
        and r.path.startswith("/v1/subscriptions/")
        and "pause_collection" in r.params
    ]


def test_pausing_sets_pause_collection_at_stripe_then_the_webhook_confirms(
    client,
    subscribed,
    stripe_double,
    deliver,
):
    stripe_double.now += 5 * DAY
    response = client.post("/account/subscription/pause/", {"months": "2"})
    assert response.status_code == 302
    sent = pause_requests(stripe_double)
    assert len(sent) == 1
    subscribed.refresh_from_db()
    resumes_at = int(subscribed.paused_until.timestamp())
    assert sent[0].params["pause_collection"] == {"behavior": "void", "resumes_at": str(resumes_at)}
    assert sent[0].idempotency_key.startswith(f"sub-{subscribed.pk}-pause-")
    assert subscribed.status == Status.PAUSED
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    assert remote["pause_collection"] == {"behavior": "void", "resumes_at": resumes_at}
    assert remote["status"] == "active"  # Stripe's status does not change
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert (subscribed.status, int(subscribed.paused_until.timestamp())) == (
        Status.PAUSED,
        resumes_at,
    )
    assert not entitlement_for(subscribed.user_id, now=clock.now()).reads_everything


def test_resuming_early_clears_pause_collection_and_stripe_resuming_by_itself_reconciles(
    client,
    subscribed,
    stripe_double,
    deliver,
):
    client.post("/account/subscription/pause/", {"months": "1"})
    deliver_all(deliver, stripe_double)
    stripe_double.now += 3 * DAY
    client.post("/account/subscription/unpause/")
    sent = pause_requests(stripe_double)
    assert [r.params["pause_collection"] for r in sent][-1] == ""
    assert stripe_double.subscriptions[subscribed.provider_ref]["pause_collection"] is None
    deliver_all(deliver, stripe_double)
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.paused_until) == (Status.ACTIVE, None)
    assert entitlement_for(subscribed.user_id, now=clock.now()).reads_everything
    # Paused again; this time Stripe resumes collecting by itself at `resumes_at` and says so.
    client.post("/account/subscription/pause/", {"months": "1"})
    deliver_all(deliver, stripe_double)
    remote = stripe_double.subscriptions[subscribed.provider_ref]
    stripe_double.now = remote["pause_collection"]["resumes_at"] + 60
    remote["pause_collection"] = None
    deliver(shapes.event("customer.subscription.updated", remote, created=stripe_double.now))
    subscribed.refresh_from_db()
    assert (subscribed.status, subscribed.paused_until) == (Status.ACTIVE, None)
    kinds = list(
        SubscriptionEvent.objects.filter(subscription=subscribed).values_list("kind", "to_status")
    )
    assert kinds.count((EventKind.PAUSED, "paused")) == 2
    assert kinds.count((EventKind.UNPAUSED, "active")) == 1  # the reader's early resume
    assert kinds[-1] == (EventKind.PROVIDER_SYNC, "active")  # Stripe's resume


def test_the_pinned_shape_of_a_paused_subscription_reads_as_paused():
    sub = shapes.subscription(
        "sub_paused",
        customer="cus_1",
        status="active",
        price_obj=shapes.price("price_monthly"),
        period_start=1_790_000_000,
        period_end=1_790_000_000 + 30 * DAY,
    )
    sub["pause_collection"] = {"behavior": "void", "resumes_at": 1_795_000_000}
    state = stripe_events.subscription_state(
        shapes.strict(shapes.event("customer.subscription.updated", sub, created=1_790_000_000))[
            "data"
        ]["object"]
    )
    assert (state.status, state.paused_until) == (
        pe.PAUSED,
        datetime.fromtimestamp(1_795_000_000, tz=UTC),
    )
    sub["pause_collection"] = None
    assert stripe_events.subscription_state(sub).status == pe.ACTIVE
