"""Readers in every subscription state, made through the real subscription actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from masthead.billing.providers import (
    TEST_CARD_FAILS_ON_RENEWAL,
    TEST_CARD_SUCCEEDS,
    CardDetails,
    TestProvider,
)
from masthead.subscriptions import actions
from masthead.subscriptions.models import Interval, Offer, OfferKind, Plan
from tests import factories


def card(user: Any, number: str, now: datetime) -> Any:
    return TestProvider().save_card(user, CardDetails(number, 12, now.year + 3, "123"), now=now)


def monthly() -> Plan:
    plan, _ = Plan.objects.get_or_create(
        slug="monthly",
        defaults={"name": "Monthly", "price_minor": 1500, "interval": Interval.MONTH},
    )
    return plan


def subscriber(now: datetime, *, first_name: str = "", email: str | None = None) -> Any:
    reader = factories.user(email)
    if first_name:
        reader.first_name = first_name
        reader.save(update_fields=["first_name"])
    actions.subscribe(reader, plan=monthly(), card=card(reader, TEST_CARD_SUCCEEDS, now), now=now)
    return reader


def readers(now: datetime) -> dict[str, Any]:
    """anonymous (None), registered, trialist, subscriber, lapsed, past due, staff."""
    plan = monthly()
    trial, _ = Offer.objects.get_or_create(
        code="free-trial",
        defaults={"plan": plan, "kind": OfferKind.TRIAL, "trial_days": 14, "card_required": False},
    )
    trialist = factories.user()
    actions.start_trial(trialist, trial, now=now)
    lapsed = factories.user()
    start = now - timedelta(days=45)
    sub = actions.subscribe(
        lapsed, plan=plan, card=card(lapsed, TEST_CARD_SUCCEEDS, start), now=start
    )
    actions.cancel(sub, now=start + timedelta(days=10), reason="test: reader cancelled")
    actions.advance(sub, now=now)
    past_due = factories.user()
    start = actions.add_months(now, -1) - timedelta(days=1)
    sub = actions.subscribe(
        past_due, plan=plan, card=card(past_due, TEST_CARD_FAILS_ON_RENEWAL, start), now=start
    )
    actions.advance(sub, now=now)
    return {
        "anonymous": None,
        "registered": factories.user(),
        "trialist": trialist,
        "subscriber": subscriber(now),
        "lapsed": lapsed,
        "past due": past_due,
        "staff": factories.user(staff=True),
    }
