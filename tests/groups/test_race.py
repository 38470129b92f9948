"""Readers taking the last seats at once: exactly the seats are taken. The group's row lock
(`actions.lock_group`) serialises them; with it removed, PostgreSQL lets the group overfill,
which the second test shows (so the first cannot pass by luck)."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.conf import settings
from django.db import connection

from masthead.core import clock
from masthead.groups import actions
from masthead.groups.actions import GroupRefused, Refusal
from masthead.groups.models import Group, Membership
from tests import factories
from tests.concurrency import in_parallel, waiting_out_sqlite_locks
from tests.groups import support

pytestmark = [pytest.mark.django_db(transaction=True)]


def race(racers: int, seats: int):
    now = clock.now()
    grp = support.group(now, seats=seats)
    tokens = [
        actions.invite(grp, f"racer{i}@example.com", actor=grp.manager, now=now).token
        for i in range(min(racers, seats - 1))
    ]
    link = actions.make_join_link(grp, actor=grp.manager, now=now)
    readers = [factories.user() for _ in range(racers)]

    def take(index: int):
        call = (
            (lambda: actions.accept_invitation(tokens[index], readers[index], now=now))
            if index < len(tokens)
            else (lambda: actions.join_by_link(link, readers[index], now=now))
        )
        return waiting_out_sqlite_locks(call, seconds=5)

    return grp, in_parallel(racers, take)


@pytest.mark.parametrize("racers", [3, 8])
def test_concurrent_joins_take_exactly_the_seats_left(racers):
    grp, results = race(racers, seats=3)
    won = [r for r in results if isinstance(r, Membership)]
    refused = [r for r in results if isinstance(r, GroupRefused)]
    assert len(won) == 2, results  # the manager holds the third seat
    assert len(refused) == racers - 2, results
    assert {r.refusal for r in refused} == {Refusal.FULL}
    assert Membership.objects.filter(group=grp, removed_at__isnull=True).count() == 3


@pytest.mark.postgres
@pytest.mark.skipif(not settings.USING_POSTGRES, reason="row locks need PostgreSQL")
def test_without_the_row_lock_the_group_overfills(monkeypatch):
    """The proof the lock is what holds the limit: counting without it lets racers past."""
    barrier = threading.Barrier(4)

    def unlocked(group):
        pk = group if isinstance(group, int) else group.pk
        found = Group.objects.select_related("subscription").get(pk=pk)
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)  # everyone has read before anyone counts and writes
        return found

    grp, _ = race(0, seats=2)
    link = actions.make_join_link(grp, actor=grp.manager, now=clock.now())
    monkeypatch.setattr(actions, "lock_group", unlocked)
    readers = [factories.user() for _ in range(4)]
    results = in_parallel(4, lambda i: actions.join_by_link(link, readers[i], now=clock.now()))
    won = [r for r in results if isinstance(r, Membership)]
    assert len(won) > 1, results  # 1 seat was left; without the lock more than one got in
    assert Membership.objects.filter(group=grp, removed_at__isnull=True).count() > 2
    connection.close()
