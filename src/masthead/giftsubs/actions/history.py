"""The gift's one way to change: `move` through `MOVES` with its history row (`GiftEvent`),
under the row lock `lock_gift` takes; and the e-mail and ledger rows every action writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from masthead.billing.models import LedgerEntry
from masthead.core.mail import queue_email
from masthead.giftsubs.models import GiftEvent, GiftStatus, GiftSubscription

NEW = ""
MOVES: dict[str, frozenset[tuple[str, str]]] = {
    GiftEvent.Kind.PURCHASED: frozenset({(NEW, GiftStatus.PURCHASED)}),
    GiftEvent.Kind.DELIVERED: frozenset({(GiftStatus.PURCHASED, GiftStatus.DELIVERED)}),
    GiftEvent.Kind.REDEEMED: frozenset({(GiftStatus.DELIVERED, GiftStatus.REDEEMED)}),
    GiftEvent.Kind.REMINDED: frozenset({(GiftStatus.REDEEMED, GiftStatus.REDEEMED)}),
    GiftEvent.Kind.REFUNDED: frozenset(
        {(GiftStatus.PURCHASED, GiftStatus.REFUNDED), (GiftStatus.DELIVERED, GiftStatus.REFUNDED)}
    ),
    GiftEvent.Kind.EXPIRED: frozenset({(GiftStatus.DELIVERED, GiftStatus.EXPIRED)}),
}


class GiftError(Exception):
    """A refusal with a machine code and a sentence a reader (or staff) can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def move(
    gift: GiftSubscription,
    to: str,
    kind: str,
    *,
    at: datetime,
    actor: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> GiftSubscription:
    from_status = gift.status if gift.pk else NEW
    if (from_status, to) not in MOVES[kind]:
        raise GiftError("illegal", f"{kind}: {from_status or 'new'} -> {to} is not allowed.")
    for name, value in fields.items():
        setattr(gift, name, value)
    gift.status = to
    if gift.pk:
        gift.save(update_fields=sorted({*fields, "status"}))
    else:
        gift.save()
    GiftEvent.objects.create(
        gift=gift,
        kind=kind,
        from_status=from_status,
        to_status=to,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        data=data or {},
    )
    return gift


def lock_gift(gift: GiftSubscription | int) -> GiftSubscription:
    pk = gift if isinstance(gift, int) else gift.pk
    return (
        GiftSubscription.objects.select_for_update(of=("self",))
        .select_related("buyer", "plan", "sale")
        .get(pk=pk)
    )


def mail(kind: str, to: str, **context: Any) -> None:
    text = render_to_string(
        f"giftsubs/email/{kind}.txt",
        {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context},
    ).strip()
    subject, _, body = text.partition("\n")
    queue_email(subject=subject.strip(), body=body.strip() + "\n", to=[to], kind=f"giftsubs.{kind}")


def ledger_row(gift: GiftSubscription, kind: str, amount: int, description: str, **fields: Any):  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.create(
        user_id=gift.buyer_id,
        kind=kind,
        amount_minor=amount,
        currency=gift.currency,
        description=description,
        provider=fields.pop("provider", gift.sale.provider if gift.sale else "none"),
        **fields,
    )
