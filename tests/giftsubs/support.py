"""Gifts bought, delivered and redeemed through the real actions."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Any

from masthead.billing.providers import TEST_CARD_SUCCEEDS
from masthead.core.models import OutboxEmail
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftSubscription
from tests import factories
from tests.gifts.support import card, monthly


def buy(
    now: datetime,
    *,
    buyer: Any = None,
    months: int = 3,
    deliver_on: date | None = None,
    email: str = "rosa@example.com",
    key: str | None = None,
) -> GiftSubscription:
    monthly()
    buyer = buyer or factories.user()
    return actions.purchase(
        buyer,
        months=months,
        recipient_email=email,
        recipient_name="Rosa Diaz",
        message="Happy birthday!",
        deliver_on=deliver_on,
        card_ref=card(buyer, TEST_CARD_SUCCEEDS, now).provider_ref,
        provider="test",
        purchase_key=key or uuid.uuid4().hex,
        now=now,
    )


def code_sent_to(email: str) -> str:
    """The redeem code in the last gift e-mail sent to `email`."""
    mails = [m for m in OutboxEmail.objects.filter(kind="giftsubs.gift") if m.to == [email]]
    assert mails, "no gift e-mail"
    mail = max(mails, key=lambda m: m.pk)
    found = re.search(r"/gift/redeem/([A-Za-z0-9_-]+)/", mail.body)
    assert found
    return found[1]


def delivered(now: datetime, **kwargs: Any) -> tuple[GiftSubscription, str]:
    gift = buy(now, **kwargs)
    gift.refresh_from_db()
    return gift, code_sent_to(gift.recipient_email)
