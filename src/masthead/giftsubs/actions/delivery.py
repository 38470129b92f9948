"""Sending a gift to its recipient on its day, exactly once, with its redeem code."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from masthead.giftsubs.actions.history import lock_gift, mail, move
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription


def deliver(gift: GiftSubscription | int, *, now: datetime) -> str | None:
    """Send the gift to its recipient once its day has come: exactly once, however many
    workers run it. Returns the redeem code this call made (None: not due, or done)."""
    with transaction.atomic(durable=True):
        locked = lock_gift(gift)
        if locked.status != GiftStatus.PURCHASED or locked.deliver_at > now:
            return None
        return deliver_locked(locked, now=now)


def deliver_locked(gift: GiftSubscription, *, now: datetime) -> str:
    code = secrets.token_urlsafe(24)  # 192 bits; only its hash is stored
    move(
        gift,
        GiftStatus.DELIVERED,
        GiftEvent.Kind.DELIVERED,
        at=now,
        code_hash=hash_code(code),
        delivered_at=now,
    )
    url = settings.SITE_URL + redeem_path(code)
    mail("gift", gift.recipient_email, gift=gift, url=url, valid_until=code_valid_until(gift))
    mail("delivered", gift.buyer.email, gift=gift)
    return code


def code_valid_until(gift: GiftSubscription) -> datetime | None:
    if gift.delivered_at is None:
        return None
    return gift.delivered_at + timedelta(days=settings.GIFT_CODE_VALID_DAYS)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def redeem_path(code: str) -> str:
    return reverse("giftsubs:redeem", args=[code])
