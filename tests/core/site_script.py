"""Run inside a worker site's environment (subprocess): set up due renewals or report them."""

from __future__ import annotations

import json
import sys
from datetime import timedelta

import django

django.setup()

from django.utils import timezone  # noqa: E402

from masthead.billing.models import EntryKind, LedgerEntry  # noqa: E402
from masthead.core.models import OutboxEmail, ScheduledRun  # noqa: E402
from masthead.subscriptions import actions  # noqa: E402
from masthead.subscriptions.models import EventKind, Plan, Subscription, SubscriptionEvent  # noqa: E402
from tests import factories  # noqa: E402
from tests.subscriptions.conftest import card  # noqa: E402


def setup(tag: str, count: int) -> list[int]:
    """`count` readers whose monthly subscription started 40 days ago: one renewal is due."""
    plan, _ = Plan.objects.get_or_create(
        slug="monthly", defaults={"name": "Monthly", "price_minor": 1500}
    )
    started = timezone.now() - timedelta(days=40)
    pks = []
    for n in range(count):
        reader = factories.user(f"{tag}-{n}@example.com")
        pks.append(actions.subscribe(reader, plan=plan, card=card(reader), now=started).pk)
    return pks


def report(pks: list[int]) -> dict[str, object]:
    return {
        "renewed": [
            SubscriptionEvent.objects.filter(subscription_id=pk, kind=EventKind.RENEWED).count()
            for pk in pks
        ],
        "charges": [
            LedgerEntry.objects.filter(subscription_id=pk, kind=EntryKind.CHARGE).count()
            for pk in pks
        ],
        "claims": [
            ScheduledRun.objects.filter(key__startswith=f"subscriptions.lifecycle:{pk}@").count()
            for pk in pks
        ],
        "receipts": [
            sorted(
                (row.status, row.attempts)
                for row in OutboxEmail.objects.filter(kind="subscriptions.receipt")
                if row.to == [Subscription.objects.get(pk=pk).user.email]
            )
            for pk in pks
        ],
    }


if __name__ == "__main__":
    command, argument = sys.argv[1], sys.argv[2]
    if command == "setup":
        print(json.dumps(setup(argument, 3)))
    else:
        print(json.dumps(report(json.loads(argument))))
