"""Two-phase money under injected crashes (docs/billing.md, decision 0018).

Every scenario ends with the same two checks against the test provider's own books
(`TestProviderRecord`, what the "bank" did): no double charge (at most one provider charge
per thing paid for) and no provider payment without its ledger row (and its history row).
These run with real transactions (`transaction=True`), so the provider is called with no
transaction open, as in production.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection

from masthead.billing import payments
from masthead.billing.models import (
    EntryKind,
    LedgerEntry,
    Payment,
    PaymentKind,
    PaymentStatus,
    TestProviderRecord,
)
from masthead.billing.providers import PaymentPending, TestProvider
from masthead.subscriptions import actions
from masthead.subscriptions.actions import charges, refunds
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent
from tests import factories
from tests.subscriptions.conftest import NOW, card, make_catalog

pytestmark = pytest.mark.django_db(transaction=True)
LATER = NOW + actions.RECONCILE_AFTER + timedelta(seconds=1)
real_charge = TestProvider.charge
real_refund = TestProvider.refund


@pytest.fixture
def catalog():
    return make_catalog()


def assert_books_balance() -> None:
    """0 double charges; 0 provider payments without a ledger row and a history row."""
    subjects = dict(Payment.objects.values_list("idempotency_key", "subject"))
    charged = Counter(
        subjects[key]
        for key in TestProviderRecord.objects.filter(kind=PaymentKind.CHARGE).values_list(
            "idempotency_key", flat=True
        )
    )
    assert [s for s, n in charged.items() if n > 1] == []  # no double charge
    for record in TestProviderRecord.objects.all():
        entry = LedgerEntry.objects.get(provider_ref=record.provider_ref)  # a ledger row
        if record.kind == PaymentKind.CHARGE:
            credits = entry.adjustments.filter(kind=EntryKind.CREDIT)
            net = entry.amount_minor + sum(c.amount_minor for c in credits)
            assert (entry.kind, net) == (EntryKind.CHARGE, record.amount_minor)
        else:
            assert (entry.kind, entry.amount_minor) == (EntryKind.REFUND, -record.amount_minor)
        assert entry.payment.status == PaymentStatus.SUCCEEDED
        kinds = set(entry.subscription.events.values_list("kind", flat=True))
        assert kinds & {
            EventKind.SUBSCRIBED,
            EventKind.RENEWED,
            EventKind.PLAN_CHANGED,
            EventKind.REFUNDED,
            EventKind.PAYMENT_RECORDED,
        }
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 0


def crash_on(monkeypatch, target: str) -> list[str]:
    """Make `target` raise once, like the database failing after the provider answered."""
    calls: list[str] = []
    module, name = target.rsplit(".", 1)
    real = getattr(__import__(module, fromlist=[name]), name)

    def crashing(*args, **kwargs):
        if not calls:
            calls.append(name)
            raise DatabaseError("injected: connection lost before commit")
        return real(*args, **kwargs)

    monkeypatch.setattr(target, crashing)
    return calls


def provider_times_out(monkeypatch, *, after_charging: bool, method: str = "charge") -> None:
    """The provider call raises TimeoutError, having moved the money or not."""
    real = real_charge if method == "charge" else real_refund

    def timing_out(self, **kwargs):
        if after_charging:
            real(self, **kwargs)
        raise TimeoutError("injected: read timed out")

    monkeypatch.setattr(TestProvider, method, timing_out)


def subscriber(catalog, key="checkout-form-key-0001"):
    reader = factories.user()
    return actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader), now=NOW, checkout_key=key
    )


# ---------------------------------------------------------------- no lock during the call


def test_no_provider_call_runs_inside_a_transaction(catalog, monkeypatch):
    seen: list[bool] = []

    def charge(self, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_charge(self, **kwargs)

    def refund(self, **kwargs):
        seen.append(connection.in_atomic_block)
        return real_refund(self, **kwargs)

    monkeypatch.setattr(TestProvider, "charge", charge)
    monkeypatch.setattr(TestProvider, "refund", refund)
    sub = subscriber(catalog)
    actions.change_plan(sub, catalog.annual, now=NOW + timedelta(days=10))
    assert actions.renew(sub, now=NOW + timedelta(days=400))
    staff = factories.user(staff=True)
    actions.refund(
        LedgerEntry.objects.filter(kind=EntryKind.CHARGE).first(),
        now=NOW + timedelta(days=401),
        actor=staff,
        reason="goodwill",
    )
    assert seen == [False, False, False, False]
    assert_books_balance()


def test_a_provider_call_inside_a_transaction_is_refused(catalog):
    from django.db import transaction

    reader = factories.user()
    with pytest.raises(RuntimeError, match=r"durable|inside a transaction"):  # noqa: SIM117
        with transaction.atomic():
            actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    with pytest.raises(payments.TransactionOpen), transaction.atomic():
        payments.assert_no_transaction()


# ---------------------------------------------------------------- checkout


def test_checkout_commit_fails_after_the_charge_then_the_retry_reuses_the_key(catalog, monkeypatch):
    reader = factories.user()
    crash_on(monkeypatch, "masthead.subscriptions.actions.checkout.write_charge")
    with pytest.raises(DatabaseError):
        actions.subscribe(
            reader, plan=catalog.monthly, card=card(reader), now=NOW, checkout_key="k" * 20
        )
    assert Subscription.objects.count() == 0
    assert TestProviderRecord.objects.count() == 1  # the provider took the money
    assert Payment.objects.get().status == PaymentStatus.PENDING
    # The reader submits the same form again: the same key, so the same charge.
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader), now=NOW, checkout_key="k" * 20
    )
    assert sub.status == Status.ACTIVE
    assert TestProviderRecord.objects.count() == 1
    assert list(LedgerEntry.objects.values_list("kind", "amount_minor")) == [("charge", 1500)]
    assert Payment.objects.get().idempotency_key == "checkout-" + "k" * 20
    assert_books_balance()


def test_checkout_commit_fails_after_the_charge_and_reconcile_settles_it(catalog, monkeypatch):
    reader = factories.user()
    crash_on(monkeypatch, "masthead.subscriptions.actions.checkout.write_charge")
    with pytest.raises(DatabaseError):
        actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=NOW)
    assert actions.reconcile_payments(NOW + timedelta(minutes=1)) == 0  # too young to judge
    assert actions.reconcile_payments(LATER) == 1
    sub = Subscription.objects.get(user=reader)
    assert (sub.status, sub.current_period_start) == (Status.ACTIVE, NOW)
    assert list(sub.ledger.values_list("amount_minor", flat=True)) == [99]
    assert list(sub.events.values_list("kind", flat=True)) == [EventKind.SUBSCRIBED]
    assert actions.reconcile_payments(LATER) == 0  # settled once
    assert_books_balance()


def test_checkout_provider_times_out_after_charging_and_reconcile_settles_it(catalog, monkeypatch):
    reader = factories.user()
    provider_times_out(monkeypatch, after_charging=True)
    with pytest.raises(PaymentPending, match="you will not be charged twice"):
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    # A second tab cannot start another payment while this one is unknown.
    with pytest.raises(actions.NotEligible, match="still being confirmed"):
        actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    monkeypatch.undo()
    assert actions.reconcile_payments(LATER) == 1
    assert Subscription.objects.get(user=reader).status == Status.ACTIVE
    assert_books_balance()


def test_checkout_provider_times_out_before_charging_and_reconcile_fails_it(catalog, monkeypatch):
    reader = factories.user()
    provider_times_out(monkeypatch, after_charging=False)
    with pytest.raises(PaymentPending):
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    monkeypatch.undo()
    assert actions.reconcile_payments(LATER) == 1
    payment = Payment.objects.get()
    assert (payment.status, payment.error) == (
        PaymentStatus.FAILED,
        "Never reached the payment provider.",
    )
    assert Subscription.objects.count() == 0
    # Nothing was taken; the reader can simply subscribe again.
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=LATER)
    assert TestProviderRecord.objects.count() == 1
    assert_books_balance()


def test_money_taken_while_staff_granted_access_is_booked_for_a_refund(catalog, monkeypatch):
    reader = factories.user()
    provider_times_out(monkeypatch, after_charging=True)
    with pytest.raises(PaymentPending):
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    monkeypatch.undo()
    staff = factories.user(staff=True)
    comp = actions.grant_comp(
        reader, until=NOW + timedelta(days=30), now=NOW, actor=staff, reason="press"
    )
    assert actions.reconcile_payments(LATER) == 1
    entry = LedgerEntry.objects.get()
    assert (entry.subscription_id, entry.period_number, entry.amount_minor) == (comp.pk, None, 1500)
    assert "refund" in entry.description
    assert comp.events.last().kind == EventKind.PAYMENT_RECORDED
    assert_books_balance()


# ---------------------------------------------------------------- renewals


def test_renewal_commit_fails_after_the_charge_then_the_next_run_reuses_the_key(
    catalog, monkeypatch
):
    sub = subscriber(catalog)
    due = NOW + timedelta(days=31)
    crash_on(monkeypatch, "masthead.subscriptions.actions.lifecycle.write_charge")
    with pytest.raises(DatabaseError):
        actions.renew(sub, now=due)
    sub.refresh_from_db()
    assert sub.period_number == 1
    pending = Payment.objects.get(status=PaymentStatus.PENDING)
    assert pending.idempotency_key == f"sub-{sub.pk}-period-2"
    assert actions.advance(sub, now=due) == 1  # the next job run: same key, settled
    sub.refresh_from_db()
    assert (sub.period_number, sub.paid_periods) == (2, 2)
    assert TestProviderRecord.objects.filter(idempotency_key=pending.idempotency_key).count() == 1
    assert_books_balance()


def test_renewal_provider_times_out_then_reconcile_settles_it(catalog, monkeypatch):
    sub = subscriber(catalog)
    due = NOW + timedelta(days=31)
    provider_times_out(monkeypatch, after_charging=True)
    assert actions.renew(sub, now=due) is False
    assert actions.advance(sub, now=due) == 0  # still unknown: the job waits, no new charge
    monkeypatch.undo()
    assert actions.reconcile_payments(due + actions.RECONCILE_AFTER) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.period_number, sub.retry_count) == (Status.ACTIVE, 2, 0)
    assert sub.events.last().kind == EventKind.RENEWED
    assert_books_balance()


def test_renewal_that_never_reached_the_provider_is_tried_again_with_a_new_key(
    catalog, monkeypatch
):
    sub = subscriber(catalog)
    due = NOW + timedelta(days=31)
    provider_times_out(monkeypatch, after_charging=False)
    assert actions.renew(sub, now=due) is False
    monkeypatch.undo()
    assert actions.reconcile_payments(due + actions.RECONCILE_AFTER) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.period_number) == (Status.ACTIVE, 1)  # not a decline
    assert actions.renew(sub, now=due + timedelta(minutes=10)) is True
    keys = list(Payment.objects.filter(purpose="renew").values_list("idempotency_key", "status"))
    assert keys == [
        (f"sub-{sub.pk}-period-2", PaymentStatus.FAILED),
        (f"sub-{sub.pk}-period-2-attempt-2", PaymentStatus.SUCCEEDED),
    ]
    assert_books_balance()


def test_renewal_settled_after_staff_ended_the_subscription_is_booked_for_a_refund(
    catalog, monkeypatch
):
    sub = subscriber(catalog)
    due = NOW + timedelta(days=31)
    provider_times_out(monkeypatch, after_charging=True)
    actions.renew(sub, now=due)
    monkeypatch.undo()
    actions.cancel(sub, now=due, actor=factories.user(staff=True), reason="fraud", immediately=True)
    assert actions.reconcile_payments(due + actions.RECONCILE_AFTER) == 1
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert sub.ledger.filter(period_number=None).get().amount_minor == 1500
    assert_books_balance()


def test_a_decline_seen_by_a_stopped_worker_is_recorded_by_reconcile(catalog):
    sub = subscriber(catalog)
    due = NOW + timedelta(days=31)
    payment = Payment.objects.create(
        user=sub.user,
        kind=PaymentKind.CHARGE,
        status=PaymentStatus.FAILED,
        subject=f"sub-{sub.pk}-period-2",
        idempotency_key=f"sub-{sub.pk}-period-2",
        purpose="renew",
        context={"subscription": sub.pk},
        amount_minor=1500,
        currency="USD",
        provider="test",
        description="Monthly renewal",
        error="Your card was declined.",
        at=due,
    )
    assert actions.renew(sub, now=due) is False  # the decline is not ours to retry yet
    assert actions.reconcile_payments(due + actions.RECONCILE_AFTER) == 1
    sub.refresh_from_db()
    assert (sub.status, sub.retry_count) == (Status.PAST_DUE, 1)
    payment.refresh_from_db()
    assert payment.settled_at is not None


# ---------------------------------------------------------------- plan change


def test_upgrade_commit_fails_after_the_charge_and_reconcile_settles_it(catalog, monkeypatch):
    sub = subscriber(catalog)
    at = NOW + timedelta(days=10)
    preview = actions.preview_plan_change(sub, catalog.annual, now=at)
    crash_on(monkeypatch, "masthead.subscriptions.actions.changes.write_charge")
    with pytest.raises(DatabaseError):
        actions.change_plan(sub, catalog.annual, now=at, expected=preview)
    sub.refresh_from_db()
    assert sub.plan == catalog.monthly
    assert actions.reconcile_payments(at + actions.RECONCILE_AFTER) == 1
    sub.refresh_from_db()
    assert (sub.plan, sub.period_number, sub.current_period_start) == (catalog.annual, 2, at)
    assert sorted(sub.ledger.values_list("kind", "amount_minor")) == [
        ("charge", 1500),
        ("charge", 15000),
        ("credit", -preview.credit_minor),
    ]
    assert_books_balance()


def test_upgrade_retried_after_a_crash_reuses_the_key(catalog, monkeypatch):
    sub = subscriber(catalog)
    at = NOW + timedelta(days=10)
    crash_on(monkeypatch, "masthead.subscriptions.actions.changes.transition")
    with pytest.raises(DatabaseError):
        actions.change_plan(sub, catalog.annual, now=at)
    actions.change_plan(sub, catalog.annual, now=at)
    assert Payment.objects.filter(purpose="change_plan").count() == 1
    assert_books_balance()


# ---------------------------------------------------------------- refunds


def test_refund_commit_fails_after_the_provider_refunded_then_the_retry_reuses_the_key(
    catalog, monkeypatch
):
    sub = subscriber(catalog)
    staff = factories.user(staff=True)
    charge = sub.ledger.get()
    crash_on(monkeypatch, "masthead.subscriptions.actions.refunds.transition")
    with pytest.raises(DatabaseError):
        actions.refund(charge, now=NOW, actor=staff, reason="duplicate", amount_minor=500)
    assert sub.ledger.count() == 1
    # What is pending counts as refunded: nothing beyond the charge can be refunded meanwhile.
    with pytest.raises(actions.SubscriptionError, match=r"\$10"):
        actions.refund(charge, now=NOW, actor=staff, reason="more", amount_minor=1001)
    entry = actions.refund(charge, now=NOW, actor=staff, reason="duplicate", amount_minor=500)
    assert entry.amount_minor == -500
    assert TestProviderRecord.objects.filter(kind=PaymentKind.REFUND).count() == 1
    assert charge.refundable_minor() == 1000
    assert_books_balance()


def test_refund_provider_times_out_and_reconcile_settles_or_fails_it(catalog, monkeypatch):
    sub = subscriber(catalog)
    staff = factories.user(staff=True)
    charge = sub.ledger.get()
    provider_times_out(monkeypatch, after_charging=True, method="refund")
    with pytest.raises(PaymentPending):
        actions.refund(charge, now=NOW, actor=staff, reason="late", amount_minor=300)
    provider_times_out(monkeypatch, after_charging=False, method="refund")
    with pytest.raises(PaymentPending):
        actions.refund(charge, now=NOW, actor=staff, reason="later", amount_minor=200)
    monkeypatch.undo()
    assert actions.reconcile_payments(LATER) == 2
    refunds_done = sub.ledger.filter(kind=EntryKind.REFUND)
    assert list(refunds_done.values_list("amount_minor", "reason")) == [(-300, "late")]
    assert list(sub.events.filter(kind=EventKind.REFUNDED).values_list("actor", flat=True)) == [
        staff.pk
    ]
    assert charge.refundable_minor() == 1200
    assert_books_balance()


def test_a_provider_that_cannot_answer_leaves_the_payment_pending(catalog, monkeypatch):
    reader = factories.user()
    provider_times_out(monkeypatch, after_charging=True)
    with pytest.raises(PaymentPending):
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)

    def unreachable(self, **kwargs):
        raise TimeoutError("still down")

    monkeypatch.setattr(TestProvider, "find_charge", unreachable)
    assert actions.reconcile_payments(LATER) == 0
    assert Payment.objects.get().status == PaymentStatus.PENDING
    monkeypatch.undo()
    assert actions.reconcile_payments(LATER) == 1
    assert_books_balance()


def test_the_reconcile_job_is_registered():
    from masthead.core import jobs

    assert jobs._JOBS["payments.reconcile"].fn is actions.reconcile_payments


def test_history_rows_exist_for_every_settled_payment(catalog):
    sub = subscriber(catalog)
    actions.renew(sub, now=NOW + timedelta(days=31))
    assert list(SubscriptionEvent.objects.values_list("kind", flat=True)) == [
        EventKind.SUBSCRIBED,
        EventKind.RENEWED,
    ]
    assert charges.reusable(f"sub-{sub.pk}-period-2").status == PaymentStatus.SUCCEEDED
    assert actions.reconcile.SETTLERS["refund"] is refunds.settle_refund
