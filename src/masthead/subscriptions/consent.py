"""Express consent to an auto-renewing subscription (docs/renewals.md).

The checkout page shows `terms_text(plan, offer, now=...)` beside an unchecked box; the form
carries the text's hash, so what is recorded is exactly what the reader saw (a text that
changed between showing and submitting, e.g. at midnight, is shown again instead). The
evidence row (`ConsentRecord`) is written by the action that creates the subscription, in
its transaction."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import dateformat, timezone

from masthead.core.clientip import client_ip, coarse_network
from masthead.subscriptions.models import ConsentRecord, Interval, Offer, OfferKind, Plan

USER_AGENT_LENGTH = 300


def auto_renews(offer: Offer | None) -> bool:
    """A checkout that takes a card renews by itself; a card-less trial simply ends."""
    return offer is None or offer.kind != OfferKind.TRIAL or offer.card_required


def terms_text(plan: Plan, offer: Offer | None, *, now: datetime) -> str:
    """The exact terms the reader agrees to: price, period, when the full price starts, that
    it renews until cancelled, and how to cancel."""
    from masthead.subscriptions.offers import checkout_terms

    terms = checkout_terms(plan, offer, now=now)
    every = "month" if plan.interval == Interval.MONTH else "year"
    if terms.full_price_from is None:
        first = f"You pay {terms.today} today for the first {every}."
        then = (
            f"Your subscription then renews automatically at {terms.full_price}, charged to "
            f"your card every {every} until you cancel."
        )
    else:
        day = dateformat.format(timezone.localtime(terms.full_price_from), "F j, Y")
        first = f"You pay {terms.today} today."
        then = (
            f"From {day} your subscription renews automatically at {terms.full_price}, "
            f"charged to your card every {every} until you cancel."
        )
    return f"{first} {then} {terms.how_to_cancel}"


def change_terms_text(plan: Plan, preview: Any) -> str:
    """The terms of a plan change (a `PlanChangePreview`): what is paid today, from when the
    new plan's price renews, until cancelled, and how to cancel."""
    every = "month" if plan.interval == Interval.MONTH else "year"
    if preview.immediate:
        first = f"You pay {preview.charge_text} today and move to {plan.name} now."
        then = f"Your subscription then renews automatically at {plan.price_text}"
    else:
        day = dateformat.format(timezone.localtime(preview.applies_at), "F j, Y")
        first = f"Nothing is charged today; you move to {plan.name} on {day}."
        then = f"From {day} your subscription renews automatically at {plan.price_text}"
    return (
        f"{first} {then}, charged to your card every {every} until you cancel. Cancel any "
        "time from your account page (Your account, then Subscription); you keep access "
        "until the end of the period you paid for."
    )


def terms_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Consent:
    """What a ticked box proves, carried from the request to the action."""

    terms_text: str
    consented_at: datetime
    network: str
    user_agent: str

    def as_context(self) -> dict[str, str]:
        data = asdict(self)
        data["consented_at"] = self.consented_at.isoformat()
        return data

    @classmethod
    def from_context(cls, data: dict[str, Any]) -> Consent:
        return cls(
            terms_text=data["terms_text"],
            consented_at=datetime.fromisoformat(data["consented_at"]),
            network=data["network"],
            user_agent=data["user_agent"],
        )


def from_request(request: HttpRequest, text: str, *, now: datetime) -> Consent:
    return Consent(
        terms_text=text,
        consented_at=now,
        network=coarse_network(client_ip(request)),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
    )


def record(
    consent: Consent,
    *,
    user: Any,
    plan: Plan,
    offer: Offer | None,
    subscription: Any = None,
    checkout_key: str | None = None,
) -> ConsentRecord:
    """The evidence row; called inside the action's transaction."""
    return ConsentRecord.objects.create(
        subscription=subscription,
        user=user,
        plan=plan,
        offer=offer,
        terms_text=consent.terms_text,
        terms_sha256=terms_hash(consent.terms_text),
        consented_at=consent.consented_at,
        network=consent.network,
        user_agent=consent.user_agent,
        checkout_key=checkout_key or "",
    )
