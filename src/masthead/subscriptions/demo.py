"""Demo plans, offers, a trial and one reader in each subscription state (idempotent)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from masthead.billing.providers import (
    TEST_CARD_FAILS_ON_RENEWAL,
    TEST_CARD_SUCCEEDS,
    CardDetails,
    TestProvider,
)
from masthead.core import clock
from masthead.subscriptions import actions
from masthead.subscriptions.models import Interval, Offer, OfferKind, Plan
from masthead.subscriptions.offers import ends_text

DEMO_PASSWORD = "meridian-reader-2026"
BENEFITS = "Read all stories with unlimited access\nUse our mobile and tablet apps"


def _offer_end(now: datetime) -> datetime:
    """Midnight after a day four weeks ahead, in the site's time zone ("Offer ends <that day>")."""
    last_day = timezone.localtime(now).date() + timedelta(weeks=4)
    return timezone.make_aware(datetime.combine(last_day + timedelta(days=1), time.min))


def _reader(email: str) -> tuple[Any, bool]:
    from allauth.account.models import EmailAddress

    User = get_user_model()
    user = User.objects.filter(email=email).first()
    created = user is None
    if user is None:
        user = User.objects.create_user(username=email, email=email, password=DEMO_PASSWORD)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user, created


def _card(user: Any, number: str, now: datetime) -> Any:
    return TestProvider().save_card(user, CardDetails(number, 12, now.year + 3, "123"), now=now)


def load() -> list[str]:
    now = clock.now()
    monthly, _ = Plan.objects.get_or_create(
        slug="monthly",
        defaults={
            "name": "Monthly",
            "price_minor": 1500,
            "interval": Interval.MONTH,
            "benefits": BENEFITS,
        },
    )
    Plan.objects.get_or_create(
        slug="annual",
        defaults={
            "name": "Annual",
            "price_minor": 15000,
            "interval": Interval.YEAR,
            "benefits": BENEFITS,
        },
    )
    ends = _offer_end(now)
    one_month, _ = Offer.objects.get_or_create(
        code="one-month",
        defaults={"plan": monthly, "intro_price_minor": 99, "intro_periods": 1, "ends_at": ends},
    )
    Offer.objects.get_or_create(
        code="three-months",
        defaults={"plan": monthly, "intro_price_minor": 900, "intro_periods": 3, "ends_at": ends},
    )
    trial, _ = Offer.objects.get_or_create(
        code="free-trial",
        defaults={
            "plan": monthly,
            "kind": OfferKind.TRIAL,
            "trial_days": 14,
            "card_required": False,
        },
    )
    # Win-back (decision 0035): only readers whose paid subscription ended may take it.
    Offer.objects.get_or_create(
        code=settings.WINBACK_OFFER,
        defaults={
            "plan": monthly,
            "intro_price_minor": 600,
            "intro_periods": 3,
            "new_subscribers_only": False,
        },
    )
    lines = [
        f"Offers: /offers/ ({one_month.headline}; {ends_text(one_month.ends_at)})",
        "Test cards: 4242 4242 4242 4242 pays, 4000 0000 0000 0002 is declined, "
        "4000 0000 0000 0341 pays now and fails on renewal",
    ]
    if settings.PAYMENT_PROVIDER != "test":
        return lines
    readers = [
        ("trialist@example.com", "trialist (14-day trial, no card)"),
        ("subscriber@example.com", "subscriber (Monthly, Visa 4242)"),
        ("lapsed-trialist@example.com", "lapsed trialist"),
        ("lapsed-subscriber@example.com", "lapsed subscriber"),
        ("past-due@example.com", "past due (renewal failed, retrying)"),
        ("loyal@example.com", "loyal subscriber (14 months; cancelling shows a save offer)"),
        ("paused@example.com", "paused (Monthly, paused for 2 months)"),
    ]
    for email, label in readers:
        user, created = _reader(email)
        if created:
            _set_up(email, user, now=now, monthly=monthly, trial=trial)
        lines.append(f"Reader, {label}: {email} / {DEMO_PASSWORD}")
    return lines


def _set_up(email: str, user: Any, *, now: datetime, monthly: Plan, trial: Offer) -> None:
    if email.startswith("trialist"):
        actions.start_trial(user, trial, now=now)
    elif email.startswith("subscriber"):
        actions.subscribe(user, plan=monthly, card=_card(user, TEST_CARD_SUCCEEDS, now), now=now)
    elif email.startswith("lapsed-trialist"):
        sub = actions.start_trial(user, trial, now=now - timedelta(days=20))
        actions.advance(sub, now=now)
    elif email.startswith("loyal"):
        start = actions.add_months(now, -14) - timedelta(days=3)
        sub = actions.subscribe(
            user, plan=monthly, card=_card(user, TEST_CARD_SUCCEEDS, start), now=start
        )
        actions.advance(sub, now=now)
    elif email.startswith("paused"):
        start = actions.add_months(now, -2) - timedelta(days=5)
        sub = actions.subscribe(
            user, plan=monthly, card=_card(user, TEST_CARD_SUCCEEDS, start), now=start
        )
        actions.advance(sub, now=now)
        actions.pause(sub, 2, now=now)
    elif email.startswith("lapsed-subscriber"):
        start = now - timedelta(days=45)
        sub = actions.subscribe(
            user, plan=monthly, card=_card(user, TEST_CARD_SUCCEEDS, start), now=start
        )
        actions.cancel(sub, now=start + timedelta(days=10), reason="Demo: reader cancelled")
        actions.advance(sub, now=now)
    else:
        start = actions.add_months(now, -1) - timedelta(days=1)
        sub = actions.subscribe(
            user, plan=monthly, card=_card(user, TEST_CARD_FAILS_ON_RENEWAL, start), now=start
        )
        actions.advance(sub, now=now)
