"""A catalogue like the demo's, built through the models staff edit in the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from masthead.billing.providers import TEST_CARD_SUCCEEDS, CardDetails, SavedCard, TestProvider
from masthead.subscriptions.models import Interval, Offer, OfferKind, Plan

NOW = datetime(2026, 10, 1, 16, 0, tzinfo=UTC)
BENEFITS = "Read all stories with unlimited access\nUse our mobile and tablet apps"


@dataclass
class Catalog:
    monthly: Plan
    annual: Plan
    one_month: Offer
    three_months: Offer
    trial: Offer
    card_trial: Offer


def make_catalog() -> Catalog:
    monthly = Plan.objects.create(
        name="Monthly", slug="monthly", price_minor=1500, interval=Interval.MONTH, benefits=BENEFITS
    )
    annual = Plan.objects.create(
        name="Annual", slug="annual", price_minor=15000, interval=Interval.YEAR, benefits=BENEFITS
    )
    return Catalog(
        monthly=monthly,
        annual=annual,
        one_month=Offer.objects.create(
            code="one-month", plan=monthly, intro_price_minor=99, intro_periods=1
        ),
        three_months=Offer.objects.create(
            code="three-months", plan=monthly, intro_price_minor=900, intro_periods=3
        ),
        trial=Offer.objects.create(
            code="free-trial", plan=monthly, kind=OfferKind.TRIAL, trial_days=14
        ),
        card_trial=Offer.objects.create(
            code="card-trial",
            plan=monthly,
            kind=OfferKind.TRIAL,
            trial_days=7,
            card_required=True,
            link_only=True,
        ),
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    """Readers are created by the dozen here; password strength is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalog(db: Any) -> Catalog:
    return make_catalog()


def card(user: Any, number: str = TEST_CARD_SUCCEEDS, now: datetime = NOW) -> SavedCard:
    return TestProvider().save_card(user, CardDetails(number, 12, 2030, "123"), now=now)


def consent_for(client: Any, url: str) -> dict[str, str]:
    """What a reader's browser sends after ticking the renewal-terms box on `url`'s page:
    the box and the hash of the terms the page showed ({} when the page shows none)."""
    import re

    found = re.search(r'name="terms_hash" value="([0-9a-f]{64})"', client.get(url).content.decode())
    return {"consent": "yes", "terms_hash": found[1]} if found else {}
