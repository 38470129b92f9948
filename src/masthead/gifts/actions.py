"""Every change to a gift link: create, revoke, and what an open led to. Each runs in one
transaction and writes its `GiftEvent`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F

from masthead.gifts import allowance, tokens
from masthead.gifts.models import GiftEvent, GiftLink, GiftOpen
from masthead.metering.policy import current_policy


class GiftRefused(Exception):
    """Why a gift link was not created; `code` for the API, `message` for the reader."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Created:
    gift: GiftLink
    token: str  # shown once, to the giver; only its digest is stored
    left: int | None  # gift links left this month after this one (None: no limit)


def _refusal(giver: Any, article: Any, now: datetime) -> GiftRefused | None:
    if not allowance.may_give(giver, now=now):
        return GiftRefused("not_a_subscriber", "Gift links are for subscribers.")
    if not getattr(article, "live", False) or getattr(article, "pk", None) is None:
        return GiftRefused("no_such_article", "That article cannot be given.")
    return None


@transaction.atomic(durable=True)
def create_gift(giver: Any, article: Any, *, now: datetime) -> Created:
    """A new gift link for `article` from `giver`, within the month's allowance.

    The giver's account row is locked first, so two creations at the limit are serialised and
    the second one counts the first (PostgreSQL: SELECT ... FOR UPDATE; SQLite: IMMEDIATE).
    """
    refusal = _refusal(giver, article, now)
    if refusal:
        raise refusal
    get_user_model().objects.select_for_update().filter(pk=giver.pk).first()
    left = allowance.gifts_left(giver, now=now)
    if left is not None and left <= 0:
        raise GiftRefused("allowance_spent", "You have given all your gift links for this month.")
    token = tokens.new_token()
    gift = GiftLink.objects.create(
        giver=giver,
        article_id=article.pk,
        token_hash=tokens.digest(token),
        created_at=now,
        expires_at=now + timedelta(days=current_policy().gift_days),
    )
    GiftEvent.objects.create(gift=gift, kind=GiftEvent.Kind.CREATED, actor=giver, at=now)
    return Created(gift, token, None if left is None else left - 1)


@transaction.atomic(durable=True)
def revoke_gift(gift: GiftLink, *, actor: Any, now: datetime) -> bool:
    """Revoke `gift` (its giver, or staff). False when it was already revoked."""
    if actor.pk != gift.giver_id and not allowance.is_staff(actor):
        raise GiftRefused("not_yours", "Only the reader who gave it can revoke a gift link.")
    changed = GiftLink.objects.filter(pk=gift.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        gift.revoked_at = now
        GiftEvent.objects.create(gift=gift, kind=GiftEvent.Kind.REVOKED, actor=actor, at=now)
    return bool(changed)


def record_open(
    gift_id: int, *, reader_key: str | None, user_id: int | None, now: datetime
) -> bool:
    """Count an open of a valid gift: once per opener (account, else reader cookie). True when
    this opener is new."""
    if reader_key is None:
        return False
    try:
        with transaction.atomic():
            GiftOpen.objects.create(
                gift_id=gift_id, opener_key=reader_key, user_id=user_id, opened_at=now
            )
            GiftLink.objects.filter(pk=gift_id).update(opens=F("opens") + 1)
            GiftEvent.objects.create(
                gift_id=gift_id, kind=GiftEvent.Kind.OPENED, reader_key=reader_key, at=now
            )
    except IntegrityError:
        return False  # this reader opened it before (or a concurrent request just did)
    return True


def note_signup(anonymous_id: str, user: Any, *, now: datetime) -> int:
    """A reader who opened gifts anonymously created an account: each of those gifts counts
    one sign-up. Returns how many gifts it credited."""
    return _credit(
        GiftOpen.objects.filter(opener_key=f"a:{anonymous_id}", signed_up_at__isnull=True),
        stamp={"user": user, "signed_up_at": now},
        counter="signups",
        kind=GiftEvent.Kind.SIGNED_UP,
        actor_id=user.pk,
        now=now,
    )


def note_subscription(user_id: int, *, now: datetime) -> int:
    """A reader who opened gifts (signed in, or before signing up) subscribed: each of those
    gifts counts one subscription, once."""
    return _credit(
        GiftOpen.objects.filter(user_id=user_id, subscribed_at__isnull=True),
        stamp={"subscribed_at": now},
        counter="subscriptions",
        kind=GiftEvent.Kind.SUBSCRIBED,
        actor_id=user_id,
        now=now,
    )


def _credit(
    opens: Any, *, stamp: dict[str, Any], counter: str, kind: str, actor_id: int, now: datetime
) -> int:
    """Credit each gift behind `opens` once (the opens locked, stamped with `stamp`, so a
    second call finds none), count it in the gift's `counter`, with its history row."""
    credited = 0
    with transaction.atomic():
        for opened in opens.select_for_update():
            GiftOpen.objects.filter(pk=opened.pk).update(**stamp)
            GiftLink.objects.filter(pk=opened.gift_id).update(**{counter: F(counter) + 1})
            GiftEvent.objects.create(
                gift_id=opened.gift_id,
                kind=kind,
                actor_id=actor_id,
                reader_key=opened.opener_key,
                at=now,
            )
            credited += 1
    return credited
