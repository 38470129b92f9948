"""Retention (decision 0035, docs/retention.md): pause and unpause, the cancellation flow's
history rows and save offers, and the win-back e-mail.

How a pause moves the dates: pausing at `t` for N months sets `paused_until = t + N months`
and moves the renewal date (`current_period_end`) on by the same span, so the paid time left
at `t` is kept for after the pause. Resuming early at `r` gives the unused span back
(`current_period_end -= paused_until - r`): in the end the renewal date has moved by exactly
the time the reader was paused. Nothing is charged while paused. The renewal-notice job reads
the moved date (its key names the moved date once a subscription was paused), so the notice
window moves with it.

A subscription Stripe bills is paused at Stripe first (`pause_collection` with behavior
`void` and `resumes_at`, no lock held), then recorded here; Stripe's billing period runs on (its
invoices in the pause are voided, so nothing is charged) and is mirrored as it is, so there the
renewal date does not move. Stripe resumes collecting by itself at `resumes_at` and its
webhook moves the mirror back to active (`provider_sync`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from masthead.billing.models import EntryKind, LedgerEntry
from masthead.subscriptions import emails, retention
from masthead.subscriptions.actions.errors import NotEligible, SubscriptionError
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.actions.stripe_changes import (
    at_stripe,
    pause_at_stripe,
    unpause_at_stripe,
)
from masthead.subscriptions.actions.transitions import lock, transition
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent

# How long the reason given on the first page of the cancellation flow is the one the
# confirm page's save offer was chosen for.
FLOW_FRESH_FOR = timedelta(hours=2)


def pause(
    subscription: Subscription,
    months: int,
    *,
    now: datetime,
    actor: Any = None,
    save_offer: bool = False,
) -> Subscription:
    """Pause an active subscription for `months` (1 to PAUSE_MAX_MONTHS). With `save_offer`
    it is the cancellation flow's save offer: refused in the cooldown, and recorded as
    accepted. A second submit of the same pause is refused (it is already paused)."""
    refusal = retention.pause_refusal(subscription, months)
    if refusal is not None:
        raise NotEligible(refusal)
    resumes_at = add_months(now, months)
    if save_offer:
        _offer_still_open(subscription, "pause", now=now)
    pause_at_stripe(subscription, resumes_at=resumes_at)
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        if sub.status == Status.PAUSED and at_stripe(sub) is not None and not save_offer:
            return sub  # Stripe's webhook mirrored this very pause first
        refusal = retention.pause_refusal(sub, months)
        if refusal is not None:
            raise NotEligible(refusal)
        if save_offer:
            _offer_still_open(sub, "pause", now=now)
        # Masthead's own billing moves the renewal date on; at Stripe the billing period runs
        # on and the invoices that fall in the pause are voided (docs/retention.md).
        shift = resumes_at - now if at_stripe(sub) is None else timedelta(0)
        transition(
            sub,
            Status.PAUSED,
            EventKind.PAUSED,
            at=now,
            actor=actor,
            reason="Save offer" if save_offer else "By the reader",
            data={
                "months": months,
                "paused_until": resumes_at.isoformat(),
                "renews_at": (sub.current_period_end + shift).isoformat(),
                "save_offer": save_offer,
            },
            paused_at=now,
            paused_until=resumes_at,
            current_period_end=sub.current_period_end + shift,
            renewal_moves=sub.renewal_moves + (1 if shift else 0),
        )
        if save_offer:
            transition(
                sub,
                Status.PAUSED,
                EventKind.SAVE_OFFER_ACCEPTED,
                at=now,
                actor=actor,
                data={"offer": "pause", "months": months},
            )
        emails.on_commit("paused", sub)
        return sub


def unpause_fields(sub: Subscription, *, now: datetime) -> dict[str, Any]:
    """The fields a pause ending at `now` sets: the unused span given back."""
    unused = sub.paused_until - now if sub.paused_until and now < sub.paused_until else None
    if not unused or at_stripe(sub) is not None:  # Stripe's period never moved
        return {"paused_at": None, "paused_until": None}
    return {
        "paused_at": None,
        "paused_until": None,
        "current_period_end": sub.current_period_end - unused,
        "renewal_moves": sub.renewal_moves + 1,
    }


def unpause(subscription: Subscription, *, now: datetime, actor: Any = None) -> Subscription:
    """The reader resumes a paused subscription (before its pause ends): access at once, the
    renewal date moved back by the pause time not used. At Stripe first, for a Stripe one."""
    if subscription.status == Status.PAUSED:
        unpause_at_stripe(subscription)
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        if sub.status == Status.ACTIVE and at_stripe(sub) is not None:
            return sub  # Stripe's webhook mirrored the resume first
        if sub.status != Status.PAUSED:
            raise SubscriptionError("This subscription is not paused.")
        fields = unpause_fields(sub, now=now)
        transition(
            sub,
            Status.ACTIVE,
            EventKind.UNPAUSED,
            at=now,
            actor=actor,
            reason="By the reader",
            data={
                "early": True,
                "renews_at": fields.get("current_period_end", sub.current_period_end).isoformat(),
            },
            **fields,
        )
        emails.on_commit("unpaused", sub)
        return sub


def end_pause(subscription: Subscription, *, now: datetime) -> bool:
    """The job: a pause whose end has come resumes, at its end, exactly once (False when it
    was not due or another worker did it). Stripe resumes its own; its webhook mirrors it."""
    with transaction.atomic():
        sub = lock(subscription)
        if sub.status != Status.PAUSED or sub.paused_until is None or sub.paused_until > now:
            return False
        if at_stripe(sub) is not None:
            return False
        at = sub.paused_until
        transition(
            sub,
            Status.ACTIVE,
            EventKind.UNPAUSED,
            at=at,
            reason="The pause ended",
            data={"early": False, "renews_at": sub.current_period_end.isoformat()},
            **unpause_fields(sub, now=at),
        )
        emails.on_commit("unpaused", sub)
        return True


# ------------------------------------------------------------------ the cancellation flow


def start_cancellation(
    subscription: Subscription,
    *,
    reason: str,
    detail: str = "",
    now: datetime,
    actor: Any = None,
) -> retention.SaveOffer | None:
    """Step 1 of the cancellation flow: the reader's (optional) reason and the save offer
    the rules choose for it, recorded as one history row (the offer shown, or none)."""
    reason = reason if reason in retention.REASON_CODES else ""
    detail = detail.strip()[:500] if reason == "other" else ""
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        if sub.status not in (Status.ACTIVE, Status.TRIALING, Status.PAST_DUE, Status.PAUSED):
            raise SubscriptionError(
                "This subscription is not renewing; there is nothing to cancel."
            )
        offer = retention.choose(sub, reason, now=now)
        transition(
            sub,
            sub.status,
            EventKind.CANCEL_REASON,
            at=now,
            actor=actor,
            reason=detail,
            data={"reason": reason, "offer": offer.kind if offer else ""},
        )
        return offer


def flow_offer(sub: Subscription, *, now: datetime) -> tuple[str, retention.SaveOffer | None]:
    """What the confirm page shows: the reason given in step 1 (if it was, recently) and the
    save offer it was shown, still re-checked against the rules (None once it no longer fits)."""
    started = (
        SubscriptionEvent.objects.filter(
            subscription=sub, kind=EventKind.CANCEL_REASON, at__gt=now - FLOW_FRESH_FOR
        )
        .order_by("-at", "-pk")
        .first()
    )
    if started is None:
        return "", None
    reason = str(started.data.get("reason", ""))
    shown = str(started.data.get("offer", ""))
    offer = retention.choose(sub, reason, now=now) if shown else None
    return reason, offer if offer is not None and offer.kind == shown else None


def _offer_still_open(sub: Subscription, kind: str, *, now: datetime) -> retention.SaveOffer:
    _, offer = flow_offer(sub, now=now)
    if offer is None or offer.kind != kind:
        raise NotEligible("This offer is no longer available. You can still cancel below.")
    return offer


def accept_save_offer(
    subscription: Subscription,
    kind: str,
    *,
    now: datetime,
    actor: Any = None,
    months: int | None = None,
) -> Subscription:
    """The reader takes the save offer they were shown; its effect and the accepted row in
    one transaction. Accepting twice is refused (the cooldown has begun)."""
    if kind == "pause":
        return pause(subscription, months or 0, now=now, actor=actor, save_offer=True)
    with transaction.atomic(durable=True):
        sub = lock(subscription)
        offer = _offer_still_open(sub, kind, now=now)
        if kind == "discount":
            transition(
                sub,
                Status.ACTIVE,
                EventKind.SAVE_OFFER_ACCEPTED,
                at=now,
                actor=actor,
                data={"offer": kind, "percent": offer.percent, "renewals": offer.renewals},
                discount_percent=offer.percent,
                discount_renewals=offer.renewals,
            )
        elif kind == "free_month":
            _free_month(sub, now=now, actor=actor)
        elif kind == "downgrade" and offer.plan is not None:
            transition(
                sub,
                Status.ACTIVE,
                EventKind.PLAN_CHANGE_SCHEDULED,
                at=now,
                actor=actor,
                data={
                    "plan": offer.plan.slug,
                    "applies_at": sub.current_period_end.isoformat(),
                    "save_offer": True,
                },
                next_plan=offer.plan,
            )
            transition(
                sub,
                Status.ACTIVE,
                EventKind.SAVE_OFFER_ACCEPTED,
                at=now,
                actor=actor,
                data={"offer": kind, "plan": offer.plan.slug},
            )
        else:  # pragma: no cover - _offer_still_open knows only the kinds above
            raise NotEligible("This offer is no longer available.")
        emails.on_commit("save_offer_accepted", sub, offer=offer)
        return sub


def _free_month(sub: Subscription, *, now: datetime, actor: Any) -> None:
    """One month added to the subscription without charge: the next period, charged at zero
    (a ledger row of 0 for it, so the books show every period), then renewal as before."""
    number = sub.period_number + 1
    start, end = sub.current_period_end, add_months(sub.current_period_end, 1)
    LedgerEntry.objects.create(
        user_id=sub.user_id,
        subscription=sub,
        kind=EntryKind.CHARGE,
        amount_minor=0,
        currency=sub.plan.currency,
        period_number=number,
        period_start=start,
        period_end=end,
        description=f"{sub.plan.name}: a free month (save offer)",
        provider=sub.provider,
        actor=actor if getattr(actor, "pk", None) else None,
        reason="Save offer: a free month",
        at=now,
    )
    transition(
        sub,
        Status.ACTIVE,
        EventKind.SAVE_OFFER_ACCEPTED,
        at=now,
        actor=actor,
        data={"offer": "free_month", "period": number, "renews_at": end.isoformat()},
        period_number=number,
        current_period_end=end,
        renewal_moves=sub.renewal_moves + 1,
    )


# ------------------------------------------------------------------ win-back


def winback_due_at(sub: Subscription) -> datetime | None:
    """When a lapsed subscriber's win-back e-mail is due (None: never, e.g. a trial only)."""
    if sub.status != Status.EXPIRED or sub.ended_at is None or sub.paid_periods == 0:
        return None
    return sub.ended_at + timedelta(days=settings.WINBACK_EMAIL_DAYS)


def send_winback(subscription: Subscription, *, now: datetime) -> bool:
    """The win-back e-mail, once per lapsed subscription (its history row says it was sent),
    only while the reader has no live subscription and the win-back offer is open to them."""
    from masthead.subscriptions.actions.eligibility import offer_refusal
    from masthead.subscriptions.models import Offer

    with transaction.atomic():
        sub = lock(subscription)
        due = winback_due_at(sub)
        if due is None or due > now:
            return False
        if sub.events.filter(kind=EventKind.WINBACK_SENT).exists():
            return False
        if (
            Subscription.objects.filter(user_id=sub.user_id, created_at__gt=sub.created_at)
            .exclude(pk=sub.pk)
            .exists()
        ):
            return False  # they came back (or moved on) already
        offer = Offer.objects.select_related("plan").filter(code=settings.WINBACK_OFFER).first()
        if offer is None or offer_refusal(sub.user_id, offer, now=now) is not None:
            return False
        transition(
            sub,
            Status.EXPIRED,
            EventKind.WINBACK_SENT,
            at=now,
            data={"offer": offer.code},
        )
        emails.on_commit("winback", sub, offer=offer)
        return True
