"""Demo: the gift conversion offer, a gift recipient reading on a gift, a reader whose gift
ended, and a delivered gift nobody has redeemed yet (its redeem link is printed)."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

from masthead.billing.providers import TEST_CARD_SUCCEEDS, CardDetails, TestProvider
from masthead.core import clock
from masthead.giftsubs import actions
from masthead.giftsubs.models import GiftSubscription
from masthead.subscriptions import actions as subscriptions
from masthead.subscriptions.demo import DEMO_PASSWORD, _reader
from masthead.subscriptions.models import Offer, Subscription

BUYER = "gift-buyer@example.com"
RECIPIENT = "gift-recipient@example.com"
ENDED = "gift-ended@example.com"
UNREDEEMED = "gift-friend@example.com"


def _buy(buyer, email: str, months: int, *, now):  # type: ignore[no-untyped-def]
    card = TestProvider().save_card(
        buyer, CardDetails(TEST_CARD_SUCCEEDS, 12, now.year + 3, "123"), now=now
    )
    gift = actions.purchase(
        buyer,
        months=months,
        recipient_email=email,
        recipient_name=email.split("@")[0].replace("-", " ").title(),
        message="Enjoy the reading!",
        card_ref=card.provider_ref,
        provider="test",
        purchase_key=uuid.uuid4().hex,
        now=now,
    )
    return gift


def load() -> list[str]:
    now = clock.now()
    plan = actions.gift_plan(now)
    if plan is None:
        return []
    Offer.objects.get_or_create(
        code="gift-conversion",
        defaults={
            "plan": plan,
            "intro_price_minor": 500,
            "intro_periods": 3,
            "new_subscribers_only": False,
        },
    )
    buyer, _ = _reader(BUYER)
    lines = [f"Gift buyer (open /gift/): {BUYER} / {DEMO_PASSWORD}"]
    recipient, created = _reader(RECIPIENT)
    if created:
        gift = _buy(buyer, RECIPIENT, 3, now=now)
        code = _code_of(gift, now)
        if code:
            actions.redeem(code, recipient, now=now)
    lines.append(f"Reader on a gift subscription: {RECIPIENT} / {DEMO_PASSWORD}")
    ended, created = _reader(ENDED)
    if created:
        then = now - timedelta(days=45)
        gift = _buy(buyer, ENDED, 1, now=then)
        code = _code_of(gift, then)
        if code:
            actions.redeem(code, ended, now=then)
            subscriptions.advance(Subscription.objects.get(user=ended), now=now)
    lines.append(f"Reader whose gift ended: {ENDED} / {DEMO_PASSWORD}")
    gift = GiftSubscription.objects.filter(recipient_email=UNREDEEMED).first()
    if gift is None:
        gift = _buy(buyer, UNREDEEMED, 6, now=now)
    if gift.status == "delivered":
        code = _code_of(gift, now)
        host, port = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8000")
        if code:
            lines.append(
                f"Unredeemed gift subscription (6 months), redeem it: "
                f"http://{host}:{port}{actions.redeem_path(code)}"
            )
    return lines


def _code_of(gift: GiftSubscription, now) -> str | None:  # type: ignore[no-untyped-def]
    """The code delivery made: read back from the gift e-mail in the outbox (the only
    place it exists)."""
    import re

    from masthead.core.models import OutboxEmail

    for mail in OutboxEmail.objects.filter(kind="giftsubs.gift").order_by("-pk")[:20]:
        if mail.to == [gift.recipient_email]:
            found = re.search(r"/gift/redeem/([A-Za-z0-9_-]+)/", mail.body)
            if (
                found
                and actions.hash_code(found[1])
                == GiftSubscription.objects.get(pk=gift.pk).code_hash
            ):
                return found[1]
    return None
