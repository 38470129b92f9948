"""Exactly once under concurrency: delivery, redemption and the reminder, each with several
workers (threads, real transactions) at the same moment. Row locks need PostgreSQL.

Each racer is slowed down between its check and its write (a sleep inside `preview` or the
delivery), so without the gift's row lock every racer would pass the check: these tests fail
if the lock is removed."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.conf import settings

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.core import jobs as core_jobs
from masthead.core.models import OutboxEmail
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription
from masthead.subscriptions.models import Subscription
from tests import factories
from tests.concurrency import in_parallel
from tests.giftsubs import support

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL"),
]

NOW = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def slowed(fn):
    def wrapper(*args, **kwargs):
        result = fn(*args, **kwargs)
        time.sleep(0.2)  # widen the window between the check and the write
        return result

    return wrapper


@pytest.mark.parametrize("workers", [2, 6])
def test_concurrent_deliveries_send_one_gift(workers):
    gift = support.buy(NOW, deliver_on=date(2026, 12, 24))
    day = gift.deliver_at + timedelta(minutes=1)
    with mock.patch.object(
        actions.delivery, "deliver_locked", slowed(actions.delivery.deliver_locked)
    ):
        results = in_parallel(workers, lambda _: actions.deliver(gift.pk, now=day))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len([r for r in results if r]) == 1
    assert OutboxEmail.objects.filter(kind="giftsubs.gift").count() == 1
    assert GiftEvent.objects.filter(kind=GiftEvent.Kind.DELIVERED).count() == 1


def test_two_job_runners_at_once_deliver_once():
    gift = support.buy(NOW, deliver_on=date(2026, 12, 24))
    day = gift.deliver_at + timedelta(minutes=1)
    results = in_parallel(4, lambda _: core_jobs.run_due_jobs(day)["giftsubs.delivery"])
    assert sum(results) == 1, results
    assert GiftSubscription.objects.get().status == GiftStatus.DELIVERED
    assert OutboxEmail.objects.filter(kind="giftsubs.gift").count() == 1


@pytest.mark.parametrize("who", ["two readers", "one reader twice"])
def test_redeeming_one_code_at_once_one_wins(who):
    _gift, code = support.delivered(NOW, months=3)
    one = factories.user()
    readers = [one, factories.user()] if who == "two readers" else [one, one]
    with mock.patch.object(actions.redemption, "preview", slowed(actions.redemption.preview)):
        results = in_parallel(2, lambda i: actions.redeem(code, readers[i], now=NOW))
    won = [r for r in results if isinstance(r, GiftSubscription)]
    refused = [r for r in results if isinstance(r, actions.GiftError)]
    assert len(won) == 1 and len(refused) == 1, results
    assert refused[0].code == "used"
    assert Subscription.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.RELEASE).count() == 1
    assert GiftEvent.objects.filter(kind=GiftEvent.Kind.REDEEMED).count() == 1


def test_concurrent_reminders_send_one():
    gift, code = support.delivered(NOW, months=1)
    reader = factories.user()
    actions.redeem(code, reader, now=NOW)
    at = Subscription.objects.get(user=reader).current_period_end - timedelta(days=3)
    with mock.patch.object(
        actions.reminder, "reminder_before", slowed(actions.reminder.reminder_before)
    ):
        results = in_parallel(4, lambda _: actions.send_reminder(gift.pk, now=at))
    assert results.count(True) == 1, results
    assert OutboxEmail.objects.filter(kind="giftsubs.reminder").count() == 1
