"""The transition table is the state machine: every move outside it is refused before a
field is written, and every move in it is applied with exactly one history row."""

from __future__ import annotations

import pytest

from masthead.subscriptions import actions
from masthead.subscriptions.actions.transitions import MOVES, NEW, allowed
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent
from tests import factories
from tests.subscriptions.conftest import NOW

pytestmark = pytest.mark.django_db


def _one_per_status(catalog) -> dict[str, Subscription]:
    subs = {}
    for status in Status.values:
        subs[status] = Subscription.objects.create(
            user=factories.user(),
            plan=catalog.monthly,
            status=status,
            started_at=NOW,
            current_period_start=NOW,
            current_period_end=NOW,
        )
    return subs


def test_every_move_outside_the_table_is_refused_and_writes_nothing(catalog):
    subs = _one_per_status(catalog)
    refused = 0
    for event in EventKind.values:
        for to in Status.values:
            for from_status, sub in subs.items():
                if allowed(event, from_status, to):
                    continue
                before = Subscription.objects.values().get(pk=sub.pk)
                with pytest.raises(actions.IllegalTransition):
                    actions.transition(sub, to, event, at=NOW, auto_renew=False)
                sub.refresh_from_db()
                assert Subscription.objects.values().get(pk=sub.pk) == before
                refused += 1
            if not allowed(event, NEW, to):
                with pytest.raises(actions.IllegalTransition):
                    actions.create(
                        to,
                        event,
                        at=NOW,
                        user=factories.user(),
                        plan=catalog.monthly,
                        started_at=NOW,
                        current_period_start=NOW,
                        current_period_end=NOW,
                    )
                refused += 1
    assert SubscriptionEvent.objects.count() == 0
    assert Subscription.objects.count() == len(Status.values)
    # Not vacuous: most of the events x statuses x (statuses and "new") combinations are refused.
    assert refused == len(EventKind.values) * len(Status.values) * (len(Status.values) + 1) - sum(
        len(m) for m in MOVES.values()
    )


def test_every_move_in_the_table_is_applied_with_one_history_row(catalog):
    for event, moves in MOVES.items():
        for from_status, to in moves:
            if from_status == NEW:
                sub = actions.create(
                    to,
                    event,
                    at=NOW,
                    user=factories.user(),
                    plan=catalog.monthly,
                    started_at=NOW,
                    current_period_start=NOW,
                    current_period_end=NOW,
                )
            else:
                sub = Subscription.objects.create(
                    user=factories.user(),
                    plan=catalog.monthly,
                    status=from_status,
                    started_at=NOW,
                    current_period_start=NOW,
                    current_period_end=NOW,
                )
                actions.transition(sub, to, event, at=NOW, reason="table", retry_count=2)
            sub.refresh_from_db()
            assert sub.status == to
            row = SubscriptionEvent.objects.get(subscription=sub)
            assert (row.kind, row.from_status, row.to_status) == (event, from_status, to)
            if from_status != NEW:
                assert (sub.retry_count, row.reason) == (2, "table")


def test_transition_saves_only_the_fields_it_is_given(catalog):
    sub = Subscription.objects.create(
        user=factories.user(),
        plan=catalog.monthly,
        status=Status.ACTIVE,
        started_at=NOW,
        current_period_start=NOW,
        current_period_end=NOW,
    )
    Subscription.objects.filter(pk=sub.pk).update(retry_count=5)  # a write the object missed
    sub.auto_renew = False  # an unsaved change not passed to transition: not written
    actions.transition(sub, Status.CANCELLED, EventKind.CANCELLED, at=NOW, cancelled_at=NOW)
    stored = Subscription.objects.get(pk=sub.pk)
    assert (stored.status, stored.cancelled_at, stored.retry_count, stored.auto_renew) == (
        Status.CANCELLED,
        NOW,
        5,
        True,
    )


def test_transition_refuses_an_unknown_field_before_writing(catalog):
    sub = Subscription.objects.create(
        user=factories.user(),
        plan=catalog.monthly,
        status=Status.ACTIVE,
        started_at=NOW,
        current_period_start=NOW,
        current_period_end=NOW,
    )
    from django.core.exceptions import FieldDoesNotExist

    with pytest.raises(FieldDoesNotExist):
        actions.transition(sub, Status.CANCELLED, EventKind.CANCELLED, at=NOW, cancelled=NOW)
    assert Subscription.objects.get(pk=sub.pk).status == Status.ACTIVE
    assert SubscriptionEvent.objects.count() == 0
