"""Several workers at once: renewals charge each period once, a double-clicked checkout
makes one subscription. Threads need real transactions, so this runs on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.subscriptions import actions
from masthead.subscriptions.jobs import run_lifecycle
from masthead.subscriptions.models import Status, Subscription
from tests import factories
from tests.concurrency import in_parallel
from tests.subscriptions.conftest import NOW, card, make_catalog

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
]


def test_eight_workers_renewing_at_once_charge_each_period_once():
    catalog = make_catalog()
    readers = [factories.user() for _ in range(5)]
    for reader in readers:
        actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    # 3 months later: every subscription owes exactly 3 renewals.
    later = datetime(2027, 1, 1, 17, 0, tzinfo=UTC)
    results = in_parallel(8, lambda _: run_lifecycle(later))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 5 * 3
    for reader in readers:
        charges = LedgerEntry.objects.filter(user=reader, kind=EntryKind.CHARGE)
        assert sorted(charges.values_list("period_number", flat=True)) == [1, 2, 3, 4]
        assert Subscription.objects.get(user=reader).current_period_end == datetime(
            2027, 2, 1, 16, 0, tzinfo=UTC
        )


def test_checkout_submitted_six_times_at_once_makes_one_subscription_and_one_charge():
    catalog = make_catalog()
    reader = factories.user()

    def checkout(index: int):
        key = "same-form-key-0001" if index % 2 else f"another-tab-key-{index:04d}"
        return actions.subscribe(
            reader, offer=catalog.one_month, card=card(reader), now=NOW, checkout_key=key
        )

    results = in_parallel(6, checkout)
    subscriptions = {r.pk for r in results if isinstance(r, Subscription)}
    assert len(subscriptions) == 1
    assert all(isinstance(r, Subscription | actions.NotEligible) for r in results), results
    assert Subscription.objects.filter(user=reader).count() == 1
    assert LedgerEntry.objects.filter(user=reader).count() == 1
    assert Subscription.objects.get(user=reader).status == Status.ACTIVE


def test_two_workers_expiring_the_same_trial_write_one_history_row():
    catalog = make_catalog()
    reader = factories.user()
    sub = actions.start_trial(reader, catalog.trial, now=NOW)
    results = in_parallel(2, lambda _: actions.advance(sub, now=NOW + timedelta(days=15)))
    assert sum(results) == 2  # the reminder and the expiry, each by exactly one worker
    assert list(sub.events.values_list("kind", flat=True)) == [
        "trial_started",
        "trial_reminder",
        "expired",
    ]


def test_two_notice_job_runs_at_once_send_one_renewal_notice():
    from masthead.core.models import OutboxEmail
    from masthead.subscriptions.jobs import due_renewal_notices, renewal_notice_one
    from masthead.subscriptions.models import RenewalNotice

    catalog = make_catalog()
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.annual, card=card(reader), now=NOW)
    at = sub.current_period_end - timedelta(days=30)
    keys = [item.key for item in due_renewal_notices(at)]
    assert keys == [str(sub.pk)]
    results = in_parallel(4, lambda _: renewal_notice_one(keys[0], at))
    assert sorted(results) == [0, 0, 0, 1], results
    assert RenewalNotice.objects.filter(subscription=sub).count() == 1
    assert OutboxEmail.objects.filter(kind="subscriptions.renewal_notice").count() == 1


# ---- retention (decision 0035) --------------------------------------------------------------


def test_a_pause_submitted_four_times_at_once_pauses_once():
    catalog = make_catalog()
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    results = in_parallel(4, lambda _: actions.pause(sub, 2, now=NOW))
    paused = [r for r in results if not isinstance(r, Exception)]
    assert len(paused) == 1, results
    assert all(isinstance(r, actions.NotEligible) for r in results if r not in paused)
    sub.refresh_from_db()
    assert sub.status == Status.PAUSED
    assert sub.current_period_end == datetime(2026, 11, 1, 16, 0, tzinfo=UTC) + (
        sub.paused_until - NOW
    )
    assert sub.events.filter(kind="paused").count() == 1


def test_a_save_offer_accepted_twice_at_once_applies_once():
    catalog = make_catalog()
    reader = factories.user()
    start = actions.add_months(NOW, -13)
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader, now=start), now=start)
    actions.advance(sub, now=NOW)
    sub.refresh_from_db()
    assert actions.start_cancellation(sub, reason="", now=NOW).kind == "free_month"
    end = sub.current_period_end
    results = in_parallel(3, lambda _: actions.accept_save_offer(sub, "free_month", now=NOW))
    assert len([r for r in results if not isinstance(r, Exception)]) == 1, results
    sub.refresh_from_db()
    assert sub.current_period_end == actions.add_months(end, 1)
    assert sub.events.filter(kind="save_offer_accepted").count() == 1
    free = LedgerEntry.objects.filter(subscription=sub, kind=EntryKind.CHARGE, amount_minor=0)
    assert free.count() == 1


def test_two_workers_ending_the_same_pause_write_one_history_row():
    catalog = make_catalog()
    reader = factories.user()
    sub = actions.subscribe(reader, plan=catalog.monthly, card=card(reader), now=NOW)
    actions.pause(sub, 1, now=NOW)
    later = NOW + timedelta(days=40)
    results = in_parallel(4, lambda _: actions.end_pause(sub, now=later))
    assert sorted(results) == [False, False, False, True], results
    assert sub.events.filter(kind="unpaused").count() == 1


# ---- dunning (decision 0038) ------------------------------------------------------------------


def _past_due_subscriber():
    from masthead.billing.providers import TEST_CARD_FAILS_ON_RENEWAL

    catalog = make_catalog()
    reader = factories.user()
    sub = actions.subscribe(
        reader, plan=catalog.monthly, card=card(reader, TEST_CARD_FAILS_ON_RENEWAL), now=NOW
    )
    failed_at = sub.current_period_end
    actions.advance(sub, now=failed_at)  # the renewal fails: past due, the day-0 e-mail
    return sub, failed_at


def test_two_dunning_job_runs_at_once_send_one_e_mail_per_day():
    from masthead.core.models import OutboxEmail
    from masthead.subscriptions.jobs import due_dunning_notices, dunning_one
    from masthead.subscriptions.models import NoticeKind, RenewalNotice

    sub, failed_at = _past_due_subscriber()
    at = failed_at + timedelta(days=3)
    keys = [item.key for item in due_dunning_notices(at)]
    assert keys == [str(sub.pk)]
    results = in_parallel(4, lambda _: dunning_one(keys[0], at))
    assert sorted(results) == [0, 0, 0, 1], results
    sent = RenewalNotice.objects.filter(subscription=sub, kind=NoticeKind.DUNNING)
    assert sorted(key[-2:] for key in sent.values_list("key", flat=True)) == ["d0", "d3"]
    assert OutboxEmail.objects.filter(kind="subscriptions.dunning").count() == 2
    assert sub.events.filter(kind="dunning_notice").count() == 2


def test_two_card_reminder_runs_at_once_send_one_reminder():
    from masthead.billing.providers import TEST_CARD_SUCCEEDS, CardDetails, TestProvider
    from masthead.core.models import OutboxEmail
    from masthead.subscriptions.jobs import card_expiry_one, due_card_expiry_reminders

    catalog = make_catalog()
    reader = factories.user()
    expiring = TestProvider().save_card(
        reader, CardDetails(TEST_CARD_SUCCEEDS, 11, 2026, "123"), now=NOW
    )
    sub = actions.subscribe(reader, plan=catalog.monthly, card=expiring, now=NOW)
    at = NOW + timedelta(days=31)
    keys = [item.key for item in due_card_expiry_reminders(at)]
    assert keys == [str(sub.pk)]
    results = in_parallel(4, lambda _: card_expiry_one(keys[0], at))
    assert sorted(results) == [0, 0, 0, 1], results
    assert OutboxEmail.objects.filter(kind="subscriptions.card_expiring").count() == 1
