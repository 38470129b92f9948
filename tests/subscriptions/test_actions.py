"""The subscription state machine, one transition at a time, with exact money and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL, ChargeFailed
from masthead.subscriptions import actions
from masthead.subscriptions.entitlements import Lapse, entitlement_for
from masthead.subscriptions.models import (
    RENEWAL_LEEWAY,
    EventKind,
    Status,
    Subscription,
    SubscriptionEvent,
)
from tests import factories
from tests.subscriptions.conftest import NOW, card

pytestmark = pytest.mark.django_db


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """`with committing():` runs the on-commit side effects (e-mail) when the block ends."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def ledger(sub: Subscription) -> list[tuple[str, int]]:
    return [(e.kind, e.amount_minor) for e in LedgerEntry.objects.filter(subscription=sub)]


def events(sub: Subscription) -> list[str]:
    return list(SubscriptionEvent.objects.filter(subscription=sub).values_list("kind", flat=True))


def test_add_months_clamps_to_the_last_day():
    assert actions.add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, tzinfo=UTC
    )
    assert actions.add_months(datetime(2026, 11, 15, tzinfo=UTC), 3) == datetime(
        2027, 2, 15, tzinfo=UTC
    )


def test_intro_offer_charges_its_price_for_its_term_then_the_plan_price(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, offer=catalog.three_months, card=card(reader), now=NOW)
    assert sub.status == Status.ACTIVE
    assert sub.current_period_end == datetime(2027, 1, 1, 16, 0, tzinfo=UTC)
    assert ledger(sub) == [("charge", 900)]
    assert actions.advance(sub, now=datetime(2027, 1, 1, 16, 0, tzinfo=UTC)) == 1
    sub.refresh_from_db()
    assert sub.current_period_end == datetime(2027, 2, 1, 16, 0, tzinfo=UTC)
    assert ledger(sub) == [("charge", 900), ("charge", 1500)]
    assert events(sub) == [EventKind.SUBSCRIBED, EventKind.RENEWED]


def test_subscribing_sends_a_welcome_and_a_receipt_after_commit(catalog, committing):
    reader = factories.user("maria@example.com")
    with committing():
        actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=NOW)
        assert mail.outbox == []
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "Welcome to The Meridian Review",
        f"Your receipt from The Meridian Review ({LedgerEntry.objects.get().receipt_number})",
    ]
    assert "$0.99" in mail.outbox[1].body


def test_declined_card_leaves_no_subscription_no_charge(catalog, monkeypatch, committing):
    reader = factories.user()
    saved = card(reader)

    def decline(**kwargs):
        raise ChargeFailed("Your card was declined. Try another card.")

    monkeypatch.setattr(
        "masthead.billing.providers.TestProvider.charge", lambda self, **k: decline()
    )
    with committing(), pytest.raises(ChargeFailed):
        actions.subscribe(reader, offer=catalog.one_month, card=saved, now=NOW)
    assert Subscription.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    assert mail.outbox == []


def test_same_checkout_key_twice_gives_one_subscription_and_one_charge(catalog):
    reader = factories.user()
    first = actions.subscribe(
        reader, offer=catalog.one_month, card=card(reader), now=NOW, checkout_key="k" * 32
    )
    second = actions.subscribe(
        reader, offer=catalog.one_month, card=card(reader), now=NOW, checkout_key="k" * 32
    )
    assert first.pk == second.pk
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).count() == 1


def test_second_subscription_for_a_live_reader_is_refused(catalog):
    reader = factories.user()
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    with pytest.raises(actions.NotEligible, match="already have a subscription"):
        actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    assert Subscription.objects.count() == 1


def test_trial_without_card_expires_and_reads_as_a_lapsed_trial(catalog, committing):
    reader = factories.user()
    sub = actions.start_trial(reader, catalog.trial, now=NOW)
    assert entitlement_for(reader.pk, now=NOW + timedelta(days=13)).reads_everything
    with committing():
        actions.advance(sub, now=NOW + timedelta(days=14))
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert events(sub) == [EventKind.TRIAL_STARTED, EventKind.TRIAL_REMINDER, EventKind.EXPIRED]
    after = entitlement_for(reader.pk, now=NOW + timedelta(days=14))
    assert (after.reads_everything, after.lapsed) == (False, Lapse.TRIAL)
    assert LedgerEntry.objects.count() == 0
    assert [m.subject for m in mail.outbox][
        -1
    ] == "Your free trial of The Meridian Review has ended"


def test_trial_reminder_is_sent_three_days_before_the_end_once(catalog, committing):
    reader = factories.user()
    sub = actions.start_trial(reader, catalog.trial, now=NOW)
    with committing():
        assert actions.advance(sub, now=NOW + timedelta(days=10, hours=23)) == 0
        assert actions.advance(sub, now=NOW + timedelta(days=11)) == 1
        assert actions.advance(sub, now=NOW + timedelta(days=12)) == 0
    assert [m.subject for m in mail.outbox].count(
        "Your free trial of The Meridian Review ends soon"
    ) == 1


def test_trial_with_card_converts_into_the_plan(catalog):
    reader = factories.user()
    sub = actions.start_trial(reader, catalog.card_trial, now=NOW, card=card(reader))
    actions.advance(sub, now=NOW + timedelta(days=7))
    sub.refresh_from_db()
    assert (sub.status, sub.paid_periods) == (Status.ACTIVE, 1)
    assert ledger(sub) == [("charge", 1500)]


def test_card_trial_needs_a_card(catalog):
    with pytest.raises(actions.SubscriptionError, match="needs a card"):
        actions.start_trial(factories.user(), catalog.card_trial, now=NOW)


def test_cancel_keeps_access_until_period_end_then_lapses(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, offer=catalog.one_month, card=card(reader), now=NOW)
    actions.cancel(sub, now=NOW + timedelta(days=3))
    end = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    assert entitlement_for(reader.pk, now=end - timedelta(seconds=1)).reads_everything
    assert not entitlement_for(reader.pk, now=end).reads_everything
    actions.advance(sub, now=end + timedelta(days=1))
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert ledger(sub) == [("charge", 99)]
    assert entitlement_for(reader.pk, now=end).lapsed == Lapse.SUBSCRIPTION


def test_resume_before_the_end_renews_as_before(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    actions.cancel(sub, now=NOW + timedelta(days=3))
    actions.resume(sub, now=NOW + timedelta(days=4))
    actions.advance(sub, now=datetime(2026, 11, 1, 16, 0, tzinfo=UTC))
    sub.refresh_from_db()
    assert sub.status == Status.ACTIVE
    assert ledger(sub) == [("charge", 1500), ("charge", 1500)]


def test_resume_after_the_end_is_refused(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    actions.cancel(sub, now=NOW)
    with pytest.raises(actions.SubscriptionError):
        actions.resume(sub, now=datetime(2026, 11, 2, tzinfo=UTC))


def test_failed_renewal_keeps_access_while_retrying_then_expires(catalog, committing):
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, TEST_CARD_FAILS_ON_RENEWAL), now=NOW
    )
    due = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    with committing():
        actions.advance(sub, now=due)
    sub.refresh_from_db()
    assert (sub.status, sub.retry_count, sub.next_retry_at) == (
        Status.PAST_DUE,
        1,
        due + timedelta(days=1),
    )
    assert entitlement_for(reader.pk, now=due + timedelta(days=6)).reads_everything
    actions.advance(sub, now=due + timedelta(days=30))
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert events(sub).count(EventKind.PAYMENT_FAILED) == 3
    assert ledger(sub) == [("charge", 1500)]
    assert not entitlement_for(reader.pk, now=due + timedelta(days=6, seconds=1)).reads_everything
    assert "Your payment for The Meridian Review didn't go through" in [
        m.subject for m in mail.outbox
    ]


def test_new_card_while_past_due_retries_at_once(catalog):
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, TEST_CARD_FAILS_ON_RENEWAL), now=NOW
    )
    due = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    actions.advance(sub, now=due)
    actions.update_card(reader, card(reader), now=due + timedelta(hours=2))
    sub.refresh_from_db()
    assert (sub.status, sub.current_period_end) == (
        Status.ACTIVE,
        datetime(2026, 12, 1, 16, 0, tzinfo=UTC),
    )
    assert ledger(sub) == [("charge", 1500), ("charge", 1500)]


def test_late_renewal_job_does_not_lock_out_a_paying_reader(catalog):
    reader = factories.user()
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    end = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)
    assert entitlement_for(
        reader.pk, now=end + RENEWAL_LEEWAY - timedelta(seconds=1)
    ).reads_everything
    assert not entitlement_for(reader.pk, now=end + RENEWAL_LEEWAY).reads_everything


def test_upgrade_preview_credits_unused_whole_days_and_charges_the_rest(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    # October has 31 days; 10 days in, 21 whole days are unused: 1500 * 21 // 31 = 1016.
    at = NOW + timedelta(days=10)
    preview = actions.preview_plan_change(sub, catalog.annual, now=at)
    assert (preview.immediate, preview.credit_minor, preview.charge_minor) == (True, 1016, 13984)
    actions.change_plan(sub, catalog.annual, now=at, expected=preview)
    sub.refresh_from_db()
    assert (sub.plan, sub.current_period_end) == (
        catalog.annual,
        datetime(2027, 10, 11, 16, 0, tzinfo=UTC),
    )
    assert ledger(sub) == [("charge", 1500), ("charge", 15000), ("credit", -1016)]


def test_confirming_an_outdated_preview_charges_nothing(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    old = actions.preview_plan_change(sub, catalog.annual, now=NOW + timedelta(days=1))
    with pytest.raises(actions.PreviewOutdated) as refused:
        actions.change_plan(sub, catalog.annual, now=NOW + timedelta(days=2), expected=old)
    # Two days in, 29 whole days of October remain unused.
    assert refused.value.preview.credit_minor == 1500 * 29 // 31
    assert ledger(sub) == [("charge", 1500)]


def test_downgrade_applies_at_the_period_end_with_nothing_charged_now(catalog):
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    preview = actions.preview_plan_change(sub, catalog.monthly, now=NOW + timedelta(days=5))
    assert (preview.immediate, preview.charge_minor, preview.applies_at) == (
        False,
        0,
        datetime(2027, 10, 1, 16, 0, tzinfo=UTC),
    )
    actions.change_plan(sub, catalog.monthly, now=NOW + timedelta(days=5), expected=preview)
    actions.advance(sub, now=datetime(2027, 10, 1, 16, 0, tzinfo=UTC))
    sub.refresh_from_db()
    assert sub.plan == catalog.monthly
    assert ledger(sub) == [("charge", 15000), ("charge", 1500)]


def test_refund_is_a_new_negative_row_with_reason_and_cannot_exceed_the_charge(catalog):
    reader, staff = factories.user(), factories.user(staff=True)
    sub = actions.subscribe(reader, offer=catalog.three_months, card=card(reader), now=NOW)
    charge = LedgerEntry.objects.get()
    actions.refund(charge, now=NOW, actor=staff, reason="Duplicate account", amount_minor=400)
    with pytest.raises(actions.SubscriptionError, match=r"\$5"):
        actions.refund(charge, now=NOW, actor=staff, reason="Again", amount_minor=501)
    actions.refund(charge, now=NOW, actor=staff, reason="Rest of it")
    assert ledger(sub) == [("charge", 900), ("refund", -400), ("refund", -500)]
    assert charge.refundable_minor() == 0
    refund_event = SubscriptionEvent.objects.filter(kind=EventKind.REFUNDED).first()
    assert (refund_event.actor, refund_event.reason) == (staff, "Duplicate account")


def test_history_and_ledger_rows_cannot_be_changed(catalog):
    reader = factories.user()
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    entry = LedgerEntry.objects.get()
    entry.amount_minor = 1
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        LedgerEntry.objects.update(amount_minor=1)
    with pytest.raises(TypeError):
        SubscriptionEvent.objects.all().delete()
    assert LedgerEntry.objects.get().amount_minor == 1500


def test_complimentary_access_ends_on_its_date(catalog):
    reader, staff = factories.user(), factories.user(staff=True)
    until = NOW + timedelta(days=30)
    sub = actions.grant_comp(reader, until=until, now=NOW, actor=staff, reason="Press pass")
    assert (
        entitlement_for(reader.pk, now=until - timedelta(seconds=1)).status == Status.COMPLIMENTARY
    )
    actions.advance(sub, now=until)
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    assert entitlement_for(reader.pk, now=until).lapsed == Lapse.SUBSCRIPTION
    with pytest.raises(actions.SubscriptionError, match="why"):
        actions.grant_comp(
            reader, until=until + timedelta(days=60), now=until, actor=staff, reason=" "
        )


def test_staff_can_end_a_subscription_at_once_with_a_reason(catalog):
    reader, staff = factories.user(), factories.user(staff=True)
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    actions.cancel(sub, now=NOW, actor=staff, reason="Chargeback", immediately=True)
    sub.refresh_from_db()
    assert sub.status == Status.EXPIRED
    last = SubscriptionEvent.objects.filter(subscription=sub).last()
    assert (last.kind, last.actor, last.reason) == (EventKind.EXPIRED, staff, "Chargeback")
    assert not entitlement_for(reader.pk, now=NOW).reads_everything


def test_entitlement_costs_one_query(catalog, django_assert_num_queries):
    reader = factories.user()
    actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    with django_assert_num_queries(1):
        assert entitlement_for(reader.pk, now=NOW).reads_everything
    with django_assert_num_queries(0):
        assert not entitlement_for(None, now=NOW).reads_everything
