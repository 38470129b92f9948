"""Stripe webhooks in the pinned API version's shape, signed like Stripe: verified, stored by
id, applied once, for the customer they name, in the order of Stripe's own state.

Payloads are built by `stripe_shapes` from the SDK's types. The local Stripe double holds
Stripe's current copy of each subscription (`says`), which Masthead fetches when an event is in
doubt. The last section runs them on the database queue: the request stores and queues, a
task applies (once, retried, failed for staff), and Stripe is fetched with no transaction open.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from masthead.billing.models import LedgerEntry, ProviderCustomer, WebhookEvent, WebhookStatus
from masthead.billing.payments import TransactionOpen
from masthead.billing.providers import get_provider
from masthead.billing.webhooks import WEBHOOK_ATTEMPTS, process_webhook_event
from masthead.core.models import TaskFailure
from masthead.core.worker import WorkerLoop
from masthead.subscriptions import actions, stripe_events
from masthead.subscriptions.models import Status, Subscription, SubscriptionEvent
from tests import factories
from tests.billing import stripe_shapes as shapes
from tests.subscriptions.conftest import NOW, card

pytestmark = pytest.mark.django_db(transaction=True)  # the request commits; its task runs

T0 = 1_790_000_000  # event creation times (unix seconds)
PERIOD = (1_790_000_000, 1_792_592_000)
NEXT = (PERIOD[1], PERIOD[1] + 30 * 86400)
PRICE = shapes.price("price_monthly", amount=1500)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@pytest.fixture
def stripe_reader(catalog, stripe_double):
    catalog.monthly.stripe_price_id = "price_monthly"
    catalog.monthly.save()
    reader = factories.user("stripe-reader@example.com")
    ProviderCustomer.objects.create(user=reader, provider="stripe", provider_ref="cus_reader")
    return reader


@pytest.fixture
def other_reader(stripe_reader):
    other = factories.user("other-reader@example.com")
    ProviderCustomer.objects.create(user=other, provider="stripe", provider_ref="cus_other")
    return other


def sub_obj(*, status="active", customer="cus_reader", period=PERIOD, cancel=False, sub_id="sub_1"):
    return shapes.subscription(
        sub_id,
        customer=customer,
        status=status,
        price_obj=PRICE,
        period_start=period[0],
        period_end=period[1],
        cancel_at_period_end=cancel,
        item_id="si_1",
    )


def sub_event(kind="customer.subscription.updated", *, created, event_id=None, **fields):
    return shapes.event(kind, sub_obj(**fields), created=created, event_id=event_id)


def invoice_event(
    kind="invoice.paid",
    *,
    created,
    invoice="in_1",
    customer="cus_reader",
    status="paid",
    period=PERIOD,
    event_id=None,
    **fields,
):
    obj = shapes.invoice(
        invoice,
        customer=customer,
        subscription_id="sub_1",
        amount=1500,
        status=status,
        period_start=period[0],
        period_end=period[1],
        price_id="price_monthly",
        created=created,
        **fields,
    )
    return shapes.event(kind, obj, created=created, event_id=event_id)


@pytest.fixture
def says(stripe_double):
    """`says(obj)`: Stripe's current copy of a subscription, what a re-fetch answers."""

    def put(obj):
        stripe_double.subscriptions[obj["id"]] = obj
        return obj

    return put


@pytest.fixture
def active(stripe_reader, deliver, says):
    """sub_1 created at Stripe and its first invoice paid."""
    says(sub_obj())
    assert deliver(sub_event("customer.subscription.created", created=T0)).json() == {
        "status": "applied"
    }
    assert deliver(invoice_event(created=T0 + 1)).json() == {"status": "applied"}
    return Subscription.objects.get(provider_ref="sub_1")


def note(event: dict) -> tuple[str, str]:
    stored = WebhookEvent.objects.get(event_id=event["id"])
    return stored.status, stored.note


def test_created_subscription_and_paid_invoice_in_the_pinned_shape(active, stripe_reader):
    assert (active.user, active.status, active.provider, active.paid_periods) == (
        stripe_reader,
        Status.ACTIVE,
        "stripe",
        1,
    )
    assert (active.current_period_start, active.current_period_end) == (
        at(PERIOD[0]),
        at(PERIOD[1]),
    )
    assert [(e.kind, e.amount_minor, e.provider_ref) for e in LedgerEntry.objects.all()] == [
        ("charge", 1500, "in_1")
    ]


def test_payment_succeeded_after_paid_is_the_same_payment(active, deliver):
    again = invoice_event("invoice.payment_succeeded", created=T0 + 2)
    assert deliver(again).json() == {"status": "applied"}
    assert note(again) == (WebhookStatus.APPLIED, "charge already recorded")
    assert LedgerEntry.objects.count() == 1


def test_an_open_invoice_is_not_a_payment(active, deliver):
    unpaid = invoice_event(
        "invoice.payment_succeeded", created=T0 + 2, invoice="in_2", status="open"
    )
    assert deliver(unpaid).json() == {"status": "ignored"}
    assert note(unpaid) == (WebhookStatus.IGNORED, "invoice in_2 is open, not paid")
    assert LedgerEntry.objects.count() == 1


def test_existing_subscription_moves_active_past_due_canceled(active, deliver, says):
    says(sub_obj(status="past_due", period=NEXT))
    failed = invoice_event(
        "invoice.payment_failed", created=T0 + 100, invoice="in_2", status="open", period=NEXT
    )
    assert deliver(failed).json() == {"status": "applied"}
    assert deliver(sub_event(created=T0 + 101, status="past_due", period=NEXT)).json() == {
        "status": "applied"
    }
    active.refresh_from_db()
    assert (active.status, active.current_period_end) == (Status.PAST_DUE, at(NEXT[1]))
    canceled = sub_obj(status="canceled", period=NEXT)
    says(canceled)
    deleted = shapes.event("customer.subscription.deleted", canceled, created=T0 + 200)
    assert deliver(deleted).json() == {"status": "applied"}
    active.refresh_from_db()
    assert active.status == Status.EXPIRED
    assert [e.kind for e in active.events.order_by("pk")][-1] == "expired"
    assert LedgerEntry.objects.count() == 1  # the failed invoice recorded no money


def test_a_failed_invoice_starts_the_dunning_episode_and_stripe_keeps_retrying(
    active, deliver, says
):
    """invoice.payment_failed in the pinned shape (attempt_count, next_payment_attempt): the
    first starts the episode (past due, the day-0 e-mail, Stripe's next attempt noted); the
    next attempt's failure sends nothing of its own; the job sends day 3, then the last
    e-mail, which gives the end of the grace period (Stripe retries on its own schedule)."""
    from datetime import timedelta

    from masthead.core.models import OutboxEmail
    from masthead.subscriptions import jobs
    from masthead.subscriptions.models import GRACE_PERIOD, NoticeKind, RenewalNotice

    failed_at, retry = T0 + 100, T0 + 100 + 3 * 86400
    first = invoice_event(
        "invoice.payment_failed",
        created=failed_at,
        invoice="in_2",
        status="open",
        period=NEXT,
        attempt_count=1,
        next_payment_attempt=retry,
    )
    assert deliver(first).json() == {"status": "applied"}
    active.refresh_from_db()
    assert (active.status, active.next_retry_at, active.grace_until) == (
        Status.PAST_DUE,
        at(retry),
        at(failed_at) + GRACE_PERIOD,
    )
    stamp = at(failed_at).strftime("%Y%m%dT%H%M%S")
    dunning = RenewalNotice.objects.filter(kind=NoticeKind.DUNNING)
    assert list(dunning.values_list("key", flat=True)) == [f"dunning-{stamp}-d0"]
    second = invoice_event(
        "invoice.payment_failed",
        created=retry,
        invoice="in_2",
        status="open",
        period=NEXT,
        attempt_count=2,
        next_payment_attempt=retry + 2 * 86400,
    )
    assert deliver(second).json() == {"status": "applied"}
    assert note(second) == (WebhookStatus.APPLIED, "payment attempt 2 failed; Stripe retries")
    assert dunning.count() == 1
    assert jobs.dunning_one(str(active.pk), at(failed_at) + timedelta(days=3)) == 1
    assert jobs.dunning_one(str(active.pk), at(failed_at) + timedelta(days=5)) == 1
    assert jobs.dunning_one(str(active.pk), at(failed_at) + timedelta(days=6)) == 0
    last = dunning.order_by("pk").last()
    assert (last.key, last.renews_at) == (f"dunning-{stamp}-d5", at(failed_at) + GRACE_PERIOD)
    ends = (at(failed_at) + GRACE_PERIOD).strftime("%B %-d, %Y")
    assert f"your access to The Meridian Review ends on {ends}" in last.body
    assert OutboxEmail.objects.filter(kind="subscriptions.dunning").count() == 3


def test_cancel_at_period_end_and_resume_at_stripe_are_mirrored(active, deliver, says):
    says(sub_obj(cancel=True))
    deliver(sub_event(created=T0 + 10, cancel=True))
    active.refresh_from_db()
    assert (active.status, active.auto_renew) == (Status.CANCELLED, False)
    says(sub_obj())
    deliver(sub_event(created=T0 + 20))
    active.refresh_from_db()
    assert (active.status, active.auto_renew) == (Status.ACTIVE, True)


@pytest.mark.parametrize(
    "tampering",
    [
        {"tamper": True},
        {"secret": "whsec_someone_else"},
        {"timestamp": int(time.time()) - 301},
    ],
    ids=["tampered body", "wrong secret", "stale timestamp"],
)
def test_unverifiable_deliveries_are_refused_and_change_nothing(
    stripe_reader, deliver, tampering, caplog
):
    response = deliver(sub_event("customer.subscription.created", created=T0), **tampering)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_signature"})
    assert not Subscription.objects.exists() and not WebhookEvent.objects.exists()
    assert "Stripe webhook refused" in caplog.text


def test_unreadable_or_unsigned_payloads_get_a_json_error(stripe_reader, client, settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_x"
    response = client.post("/webhooks/stripe/", data=b"{", content_type="application/json")
    assert response.status_code == 400 and response.json()["error"] == "invalid_signature"
    assert client.get("/webhooks/stripe/").status_code == 405


def test_a_signed_event_missing_a_field_of_the_pinned_version_is_a_400(stripe_reader, deliver):
    event = sub_event("customer.subscription.created", created=T0)
    del event["data"]["object"]["items"]
    response = deliver(event)
    assert (response.status_code, response.json()) == (400, {"error": "invalid_payload"})
    assert not Subscription.objects.exists()


def test_missing_secret_is_an_operator_error_not_a_crash(client, settings, caplog):
    settings.STRIPE_WEBHOOK_SECRET = ""
    response = client.post(
        "/webhooks/stripe/",
        data=b"{}",
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert (response.status_code, response.json()) == (503, {"error": "webhooks_not_configured"})
    assert "STRIPE_WEBHOOK_SECRET is not set" in caplog.text


def test_replayed_event_changes_nothing(active, deliver, says):
    says(sub_obj(status="canceled"))
    deliver(sub_event("customer.subscription.deleted", created=T0 + 5, status="canceled"))
    replay = deliver(invoice_event(created=T0 + 1, event_id=WebhookEvent.objects.last().event_id))
    assert replay.json() == {"status": "duplicate"}
    assert LedgerEntry.objects.count() == 1
    assert Subscription.objects.get().status == Status.EXPIRED


# ---------------------------------------------------------------- who may change what


def test_a_subscription_event_naming_another_customer_is_refused(active, other_reader, deliver):
    forged = sub_event(created=T0 + 10, status="canceled", customer="cus_other")
    assert deliver(forged).json() == {"status": "ignored"}
    assert note(forged) == (
        WebhookStatus.IGNORED,
        "subscription sub_1 belongs to another reader than customer cus_other",
    )
    active.refresh_from_db()
    assert (active.user.email, active.status) == ("stripe-reader@example.com", Status.ACTIVE)


def test_an_invoice_naming_another_customer_is_refused(active, other_reader, deliver):
    forged = invoice_event(created=T0 + 10, invoice="in_9", customer="cus_other")
    assert deliver(forged).json() == {"status": "ignored"}
    assert note(forged)[1] == "subscription sub_1 belongs to another reader than customer cus_other"
    failed = invoice_event(
        "invoice.payment_failed",
        created=T0 + 11,
        invoice="in_8",
        customer="cus_other",
        status="open",
    )
    assert deliver(failed).json() == {"status": "ignored"}
    assert LedgerEntry.objects.count() == 1
    active.refresh_from_db()
    assert active.status == Status.ACTIVE


def test_a_checkout_session_for_another_reader_is_refused(active, other_reader, deliver):
    session = shapes.checkout_session(
        "cs_1",
        customer="cus_reader",
        client_reference_id=str(other_reader.pk),
        url="https://checkout.stripe.test/cs_1",
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/",
        status="complete",
        payment_status="paid",
        subscription_id="sub_1",
    )
    event = shapes.event("checkout.session.completed", session, created=T0 + 3)
    assert deliver(event).json() == {"status": "ignored"}
    assert "was started by another reader" in note(event)[1]


def test_event_for_another_account_is_ignored_and_logged(stripe_reader, deliver, caplog):
    event = shapes.event(
        "customer.subscription.created", sub_obj(), created=T0, account="acct_elsewhere"
    )
    response = deliver(event)
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert not Subscription.objects.exists()
    assert note(event) == (WebhookStatus.IGNORED, "event for another Stripe account acct_elsewhere")
    assert "acct_elsewhere" in caplog.text


def test_event_for_our_connected_account_is_accepted(stripe_reader, deliver, settings, says):
    settings.STRIPE_ACCOUNT_ID = "acct_ours"
    says(sub_obj())
    event = shapes.event(
        "customer.subscription.created", sub_obj(), created=T0, account="acct_ours"
    )
    assert deliver(event).json() == {"status": "applied"}


@pytest.mark.parametrize(
    ("key", "livemode", "refused"),
    [
        ("sk_test_masthead", True, "a live-mode event reached a test-mode key"),
        ("sk_live_masthead", False, "a test-mode event reached a live-mode key"),
    ],
)
def test_events_of_the_other_mode_are_ignored(
    stripe_reader, deliver, settings, key, livemode, refused
):
    settings.STRIPE_SECRET_KEY = key
    event = shapes.event("customer.subscription.created", sub_obj(), created=T0, livemode=livemode)
    assert deliver(event).json() == {"status": "ignored"}
    assert note(event) == (WebhookStatus.IGNORED, refused)
    assert not Subscription.objects.exists()


def test_event_for_an_unknown_customer_is_ignored(stripe_reader, deliver):
    event = sub_event(created=T0, customer="cus_stranger")
    assert deliver(event).json() == {"status": "ignored"}
    assert note(event)[1] == "unknown customer cus_stranger"
    assert not Subscription.objects.exists()


def test_a_subscription_state_that_grants_nothing_is_stored_quietly(stripe_reader, deliver):
    event = sub_event("customer.subscription.created", created=T0, status="incomplete")
    assert deliver(event).json() == {"status": "ignored"}
    assert note(event)[1] == "subscription status incomplete grants nothing yet"


# ---------------------------------------------------------------- order


def test_an_older_event_arriving_later_is_skipped(active, deliver, says):
    says(sub_obj(cancel=True))
    later = sub_event(created=T0 + 10, cancel=True)
    earlier = sub_event(created=T0 + 5)
    assert deliver(later).json() == {"status": "applied"}
    assert deliver(earlier).json() == {"status": "applied"}
    active.refresh_from_db()
    assert (active.status, active.auto_renew) == (Status.CANCELLED, False)
    assert note(earlier)[1] == "older than the state already applied"


def test_an_earlier_period_is_skipped_whatever_its_event_time(active, deliver, says):
    says(sub_obj(period=NEXT))
    deliver(sub_event(created=T0 + 10, period=NEXT))
    stale = sub_event(created=T0 + 20, status="past_due", period=PERIOD)
    assert deliver(stale).json() == {"status": "applied"}
    assert note(stale)[1] == "an earlier period than the one already applied"
    active.refresh_from_db()
    assert (active.status, active.current_period_end) == (Status.ACTIVE, at(NEXT[1]))


@pytest.mark.parametrize("order", ["as sent", "reversed"])
def test_events_in_the_same_second_end_in_stripes_current_state(
    active, deliver, says, stripe_double, order
):
    # Two changes in one second: the event times cannot order them, Stripe's copy does.
    says(sub_obj(status="past_due"))
    first = sub_event(created=T0 + 50, status="active", cancel=True)
    second = sub_event(created=T0 + 50, status="past_due")
    pair = [first, second] if order == "as sent" else [second, first]
    for event in pair:
        assert deliver(event).json() == {"status": "applied"}
    active.refresh_from_db()
    assert active.status == Status.PAST_DUE
    fetched = [r for r in stripe_double.requests if r.path == "/v1/subscriptions/sub_1"]
    assert fetched and all(r.method == "GET" for r in fetched)


def test_deletion_then_a_late_update_stays_expired(active, deliver, says):
    says(sub_obj(status="canceled"))
    deliver(sub_event("customer.subscription.deleted", created=T0 + 20, status="canceled"))
    late = sub_event(created=T0 + 30, status="active")
    deliver(late)
    assert Subscription.objects.get().status == Status.EXPIRED


# ---------------------------------------------------------------- failures and retries


def test_failed_event_is_stored_answered_500_and_retried_by_the_operator(
    stripe_reader, deliver, catalog, says, settings
):
    settings.PAYMENT_PROVIDER = "test"  # a local subscription with a test card
    local = actions.subscribe(
        stripe_reader, plan=catalog.monthly, card=card(stripe_reader), now=NOW
    )
    says(sub_obj())
    response = deliver(sub_event("customer.subscription.created", created=T0, event_id="evt_1"))
    assert (response.status_code, response.json()) == (500, {"error": "apply_failed"})
    assert WebhookEvent.objects.get().status == WebhookStatus.FAILED
    # The runbook: end the conflicting subscription, then apply the stored event again.
    actions.cancel(local, now=NOW, reason="Moved to Stripe", immediately=True)
    out = StringIO()
    call_command("billing_webhooks", "retry", stdout=out)
    assert "evt_1 customer.subscription.created: {'status': 'applied'}" in out.getvalue()
    assert Subscription.objects.get(provider="stripe").status == Status.ACTIVE


def test_invoice_before_its_subscription_is_retried_and_then_recorded(stripe_reader, deliver, says):
    invoice = invoice_event(created=T0 + 1)
    early = deliver(invoice)
    assert (early.status_code, early.json()) == (500, {"error": "apply_failed"})
    assert LedgerEntry.objects.count() == 0
    says(sub_obj())
    deliver(sub_event("customer.subscription.created", created=T0))
    retried = deliver(invoice)  # Stripe delivers it again
    assert retried.json() == {"status": "applied"}
    assert [e.amount_minor for e in LedgerEntry.objects.all()] == [1500]


def test_a_completed_checkout_before_its_subscription_event_mirrors_stripes_copy(
    stripe_reader, deliver, says
):
    says(sub_obj())
    session = shapes.checkout_session(
        "cs_1",
        customer="cus_reader",
        client_reference_id=str(stripe_reader.pk),
        url="https://checkout.stripe.test/cs_1",
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/",
        status="complete",
        payment_status="paid",
        subscription_id="sub_1",
    )
    event = shapes.event("checkout.session.completed", session, created=T0 + 3)
    assert deliver(event).json() == {"status": "applied"}
    assert note(event)[1] == "subscription mirrored from Stripe"
    sub = Subscription.objects.get(provider_ref="sub_1")
    assert (sub.user, sub.status) == (stripe_reader, Status.ACTIVE)
    # Stripe's own subscription event, older, then arrives: nothing changes.
    created = sub_event("customer.subscription.created", created=T0)
    assert deliver(created).json() == {"status": "applied"}
    assert note(created)[1] == "older than the state already applied"
    again = shapes.event("checkout.session.completed", session, created=T0 + 4)
    assert deliver(again).json() == {"status": "applied"}
    assert note(again)[1] == "subscription already mirrored"
    assert Subscription.objects.count() == 1


# ---------------------------------------------------------------- on the job queue

DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def drain() -> int:
    return WorkerLoop(batch=True, scheduler=False, poll=0.05, max_seconds=60, forking=False).run()


def stored(event: dict) -> WebhookEvent:
    return WebhookEvent.objects.get(event_id=event["id"])


def test_the_request_applies_nothing_and_the_task_applies_it_once(
    stripe_reader, deliver, says, settings
):
    settings.TASKS = DATABASE
    says(sub_obj())
    event = sub_event("customer.subscription.created", created=T0)

    response = deliver(event)

    assert (response.status_code, response.json()) == (200, {"status": "received"})
    assert stored(event).status == WebhookStatus.RECEIVED
    assert Subscription.objects.count() == 0
    assert DBTaskResult.objects.count() == 1
    assert deliver(event).json() == {"status": "duplicate"}  # a replay queues nothing more
    assert DBTaskResult.objects.count() == 1

    assert drain() == 0

    assert (stored(event).status, stored(event).note) == (WebhookStatus.APPLIED, "applied")
    sub = Subscription.objects.get(provider_ref="sub_1")
    assert (sub.user, sub.status) == (stripe_reader, Status.ACTIVE)
    history = SubscriptionEvent.objects.count()

    assert process_webhook_event.call(stored(event).pk) == "already applied"

    assert Subscription.objects.get().status == Status.ACTIVE
    assert SubscriptionEvent.objects.count() == history
    assert stored(event).status == WebhookStatus.APPLIED


def test_a_failing_event_is_retried_with_backoff_then_stays_failed_for_staff(
    stripe_reader, deliver, says, settings
):
    settings.TASKS = DATABASE
    settings.TASK_RETRY_BASE_SECONDS = 0.05
    invoice = invoice_event(created=T0 + 1)  # before its subscription: NotYetApplicable

    assert deliver(invoice).json() == {"status": "received"}
    assert drain() == 1  # the worker reports the final failure

    failed = stored(invoice)
    assert failed.status == WebhookStatus.FAILED
    assert failed.note == "NotYetApplicable: subscription sub_1 not seen yet"
    failure = TaskFailure.objects.get()
    assert failure.task_path == "masthead.billing.webhooks.process_webhook_event"
    assert (failure.args, failure.attempts) == ([failed.pk], WEBHOOK_ATTEMPTS)
    assert LedgerEntry.objects.count() == 0

    # The runbook: once the subscription has arrived, staff queue the failed event again.
    says(sub_obj())
    deliver(sub_event("customer.subscription.created", created=T0))
    out = StringIO()
    call_command("billing_webhooks", "retry", stdout=out)
    assert stored(invoice).status == WebhookStatus.RECEIVED
    assert drain() == 0
    assert stored(invoice).status == WebhookStatus.APPLIED
    assert [e.amount_minor for e in LedgerEntry.objects.all()] == [1500]


class NoTransactionProvider:
    """The Stripe provider, asserting that no transaction is open when it is asked."""

    def __init__(self) -> None:
        self.real = get_provider("stripe")
        self.fetched: list[str] = []

    def subscription(self, ref: str) -> Any:
        assert not connection.in_atomic_block, "Stripe fetched inside a transaction"
        self.fetched.append(ref)
        return self.real.subscription(ref)


def test_stripe_is_fetched_with_no_transaction_open(stripe_reader, deliver, says, monkeypatch):
    fake = NoTransactionProvider()
    monkeypatch.setattr(stripe_events, "get_provider", lambda name: fake)
    says(sub_obj())
    session = shapes.checkout_session(
        "cs_1",
        customer="cus_reader",
        client_reference_id=str(stripe_reader.pk),
        url="https://checkout.stripe.test/cs_1",
        success_url="http://testserver/checkout/return/",
        cancel_url="http://testserver/",
        status="complete",
        payment_status="paid",
        subscription_id="sub_1",
    )
    event = shapes.event("checkout.session.completed", session, created=T0 + 3)

    assert deliver(event).json() == {"status": "applied"}

    assert fake.fetched == ["sub_1"]
    assert stored(event).note == "subscription mirrored from Stripe"
    # An event in doubt (it would change the status) is fetched the same way.
    says(sub_obj(status="past_due"))
    assert deliver(sub_event(created=T0 + 10, status="past_due")).json() == {"status": "applied"}
    assert fake.fetched == ["sub_1", "sub_1"]
    assert Subscription.objects.get().status == Status.PAST_DUE


def test_fetching_inside_a_transaction_is_refused(stripe_reader):
    with pytest.raises(TransactionOpen), transaction.atomic():
        stripe_events.fetch_state("sub_1")


def test_an_event_whose_task_was_lost_is_queued_again_by_the_sweep(
    stripe_reader, deliver, says, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from masthead.billing.jobs import STUCK_AFTER, requeue_stuck_webhooks
    from masthead.core import jobs

    settings.TASKS = DATABASE
    says(sub_obj())
    event = sub_event("customer.subscription.created", created=T0)
    assert deliver(event).json() == {"status": "received"}
    DBTaskResult.objects.all().delete()  # the queue lost the task
    fresh = sub_event(created=T0 + 5, event_id="evt_fresh")
    deliver(fresh)
    DBTaskResult.objects.all().delete()

    # Not yet stuck: a slow queue is left alone.
    assert requeue_stuck_webhooks(NOW) == 0
    WebhookEvent.objects.filter(event_id=event["id"]).update(
        received_at=timezone.now() - STUCK_AFTER - timedelta(seconds=1)
    )

    assert "billing.requeue_stuck_webhooks" in jobs.registered()
    assert requeue_stuck_webhooks(NOW) == 1
    assert DBTaskResult.objects.count() == 1
    assert drain() == 0
    assert stored(event).status == WebhookStatus.APPLIED
    assert stored(fresh).status == WebhookStatus.RECEIVED  # only the stuck one was queued
    assert Subscription.objects.get(provider_ref="sub_1").status == Status.ACTIVE
    # Applied events are never queued again.
    WebhookEvent.objects.update(received_at=timezone.now() - STUCK_AFTER * 2)
    assert requeue_stuck_webhooks(NOW) == 1  # the fresh one, now old enough
