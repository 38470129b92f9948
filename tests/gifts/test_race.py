"""Two creations at the allowance limit at once: exactly one wins. Threads need real
transactions; the giver's row lock serialises them on PostgreSQL (SELECT ... FOR UPDATE)
and on SQLite (IMMEDIATE transactions)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masthead.gifts import actions
from masthead.gifts.actions import GiftRefused
from masthead.gifts.models import GiftEvent, GiftLink
from masthead.newsroom.models import AccessLevel
from tests import factories
from tests.concurrency import in_parallel, waiting_out_sqlite_locks
from tests.gifts import support
from tests.metering.support import save_policy

pytestmark = [pytest.mark.django_db(transaction=True)]

SEPT_15 = datetime(2026, 9, 15, 12, 0, tzinfo=UTC)


def create_waiting_like_sqlite(giver, article):
    """The action; on SQLite, retried while the table is locked (tests/concurrency.py)."""
    return waiting_out_sqlite_locks(
        lambda: actions.create_gift(giver, article, now=SEPT_15), seconds=2
    )


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
