"""Two creations at the allowance limit at once: exactly one wins. Threads need real
transactions; the giver's row lock serialises them on PostgreSQL (SELECT ... FOR UPDATE)
and on SQLite (IMMEDIATE transactions)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import OperationalError, connection

from masthead.gifts import actions
from masthead.gifts.actions import GiftRefused
from masthead.gifts.models import GiftEvent, GiftLink
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = [pytest.mark.django_db(transaction=True)]

SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def in_parallel(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported by the assertions below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def create_waiting_like_sqlite(giver, article):
    """The action; on SQLite, retried while the table is locked. The test database is SQLite's
    shared-cache in-memory one, which reports a lock at once instead of waiting out the busy
    timeout (20 s) that the file database of a real site waits: retrying is that wait."""
    for _ in range(400):
        try:
            return actions.create_gift(giver, article, now=SEPT_15)
        except OperationalError as error:
            if settings.USING_POSTGRES or "locked" not in str(error):
                raise
            time.sleep(0.005)
    raise AssertionError("the lock was never released")


@pytest.mark.parametrize("racers", [2, 6])
def test_concurrent_creations_at_the_limit_grant_exactly_the_allowance(racers):
    save_policy(gift_allowance=2)
    article = factories.article(access_level=AccessLevel.METERED)
    giver = support.subscriber(SEPT_15)
    actions.create_gift(giver, article, now=SEPT_15)  # one left

    results = in_parallel(racers, lambda _: create_waiting_like_sqlite(giver, article))

    won = [r for r in results if isinstance(r, actions.Created)]
    refused = [r for r in results if isinstance(r, GiftRefused)]
    assert len(won) == 1, results
    assert len(refused) == racers - 1, results
    assert {r.code for r in refused} == {"allowance_spent"}
    assert won[0].left == 0
    assert GiftLink.objects.filter(giver=giver).count() == 2
    assert GiftEvent.objects.filter(kind=GiftEvent.Kind.CREATED).count() == 2
