"""Dunning: the failed-payment e-mails of a failure episode, and the reminder before a
renewing subscriber's card expires (docs/dunning.md, decision 0038).

A failure episode starts with the first failed payment (`record_payment_failure` sets
`grace_until` to that moment plus GRACE_PERIOD and keeps it while past due) and ends when
the payment recovers (renewed: active again) or access ends (expired, cancelled). Its
e-mails go out on `settings.DUNNING_DAYS` after the start (0, 3 and 5 by default), each one
once: a `RenewalNotice` row keyed `dunning-<episode start>-d<day>`, unique per subscription
and key, so two workers (or two job runs) send one. The days are checked against the retry
schedule: a day at or after the moment access ends is never sent, and the last day's e-mail
says when access ends.

Each e-mail and each card reminder is one action: the subscription row locked, the rule
re-checked under the lock (a payment that recovered sends nothing), the e-mail written to the
outbox, the notice row with the exact text and its history row, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from masthead.billing.models import PaymentMethod
from masthead.core.money import format_money
from masthead.subscriptions.actions.notices import _notice, renewal_price, renewing_plan
from masthead.subscriptions.actions.transitions import lock
from masthead.subscriptions.models import (
    GRACE_PERIOD,
    RETRY_DELAYS,
    EventKind,
    NoticeKind,
    RenewalNotice,
    Status,
    Subscription,
)

# Renewing subscriptions whose card is reminded before it expires (a cancelled, gift,
# complimentary, past-due or expired subscription is not: it will not charge the card, or
# is already in the dunning e-mails).
CARD_REMINDER_STATUSES = (Status.ACTIVE, Status.TRIALING)


def card_update_url() -> str:
    """The card-update link of every dunning e-mail and the banner: the payment-method page
    (signed out, sign-in brings the reader back to it)."""
    return f"{settings.SITE_URL}{reverse('subscriptions:payment_method')}"


# ---- failure episodes ----------------------------------------------------------------------


def episode_start(sub: Subscription) -> datetime | None:
    """When this subscription's current failure episode began; None when it is not past due."""
    if sub.status != Status.PAST_DUE or sub.grace_until is None:
        return None
    return sub.grace_until - GRACE_PERIOD


def access_ends_at(sub: Subscription) -> datetime | None:
    """When access ends if the payment is not made: at the last retry (a failure there
    expires the subscription), at the latest at the end of the grace period. A subscription
    billed by Stripe is retried by Stripe on its own schedule: the grace period's end."""
    start = episode_start(sub)
    if start is None or sub.grace_until is None:
        return None
    if sub.provider_ref:
        return sub.grace_until
    return min(sub.grace_until, start + RETRY_DELAYS[-1])


@dataclass(frozen=True)
class DunningStep:
    day: int  # days after the episode's start
    at: datetime  # when it is due
    key: str  # the notice's key: unique per subscription
    final: bool  # the last e-mail of the episode: it says when access ends


def dunning_steps(sub: Subscription) -> list[DunningStep]:
    """The e-mails this episode gets, in order: the configured days that fall before access
    ends (a day at or after it would arrive too late to help)."""
    start = episode_start(sub)
    ends = access_ends_at(sub)
    if start is None or ends is None:
        return []
    days = [day for day in settings.DUNNING_DAYS if start + timedelta(days=day) < ends]
    stamp = start.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    return [
        DunningStep(
            day=day,
            at=start + timedelta(days=day),
            key=f"dunning-{stamp}-d{day}",
            final=index == len(days) - 1,
        )
        for index, day in enumerate(days)
    ]


def due_dunning_step(sub: Subscription, *, now: datetime, sent: set[str]) -> DunningStep | None:
    """The e-mail to send now: the latest step due by `now`, unless it or a later one was
    sent (`sent`: the keys already sent). A step the job missed is skipped, never sent late
    beside the next one."""
    due = [step for step in dunning_steps(sub) if step.at <= now]
    if not due:
        return None
    latest = due[-1]
    keys = [step.key for step in dunning_steps(sub)]
    if any(key in sent for key in keys[keys.index(latest.key) :]):
        return None
    return latest


def send_dunning_notice(subscription: Subscription, *, now: datetime) -> RenewalNotice | None:
    """The failed-payment e-mail due now for this episode, once; None when none is owed (the
    payment recovered, the subscription ended, it was sent, or nothing is due yet)."""
    try:
        with transaction.atomic():
            sub = lock(subscription)
            if sub.status != Status.PAST_DUE:
                return None
            ends = access_ends_at(sub)
            if ends is None or ends <= now:
                return None
            sent = set(sub.notices.filter(kind=NoticeKind.DUNNING).values_list("key", flat=True))
            step = due_dunning_step(sub, now=now, sent=sent)
            if step is None:
                return None
            plan = renewing_plan(sub)
            amount = renewal_price(sub, plan, start=sub.current_period_end)
            number = [s.key for s in dunning_steps(sub)].index(step.key) + 1
            return _notice(
                sub,
                kind=NoticeKind.DUNNING,
                key=step.key,
                event=EventKind.DUNNING_NOTICE,
                renews_at=ends,
                price_minor=amount,
                currency=plan.currency,
                now=now,
                late=now - step.at >= timedelta(days=1),
                template="dunning",
                context={
                    "plan": plan,
                    "amount": format_money(amount, plan.currency),
                    "access_ends_at": ends,
                    # The next retry, when one is still to come before access ends.
                    "next_retry_at": sub.next_retry_at
                    if sub.next_retry_at and now < sub.next_retry_at <= ends
                    else None,
                    "final": step.final,
                    "number": number,
                    "day": step.day,
                    "card_url": card_update_url(),
                },
                data={"day": step.day, "final": step.final},
            )
    except IntegrityError:
        return None  # another worker sent it (one_notice_per_key)


# ---- card expiry ---------------------------------------------------------------------------


def card_expires_at(card: PaymentMethod) -> datetime:
    """A card works to the end of its expiry month: the first moment of the next month."""
    year, month_index = divmod(card.exp_year * 12 + card.exp_month, 12)  # the next month
    return datetime(year, month_index + 1, 1, tzinfo=UTC)


def card_key(card: PaymentMethod) -> str:
    return f"card-{card.pk}-{card.exp_year}-{card.exp_month:02d}"


def lead() -> timedelta:
    return timedelta(days=settings.CARD_EXPIRY_REMINDER_DAYS)


def card_reminder_due_at(sub: Subscription, card: PaymentMethod | None) -> datetime | None:
    """When the reminder for `card` is due, or None when none is owed: `card` is the reader's
    current one and the subscription renews onto it (active or trialing, auto-renewing,
    something to charge). Due the lead before the card's expiry, so it always comes before
    the first renewal the card would fail; at once when that moment has passed (a card that
    expires before the next renewal, found late, or already expired)."""
    if card is None or card.replaced_at is not None or card.user_id != sub.user_id:
        return None
    if sub.status not in CARD_REMINDER_STATUSES or not sub.auto_renew:
        return None
    if renewal_price(sub, renewing_plan(sub), start=sub.current_period_end) <= 0:
        return None
    return card_expires_at(card) - lead()


def send_card_expiry_reminder(subscription: Subscription, *, now: datetime) -> RenewalNotice | None:
    """The reminder that the reader's card expires, once per card and expiry; None when none
    is owed now (the card was replaced, the subscription stopped renewing, it was sent)."""
    try:
        with transaction.atomic():
            sub = lock(subscription)
            card = PaymentMethod.current_for(sub.user_id)
            due = card_reminder_due_at(sub, card)
            if card is None or due is None or due > now:
                return None
            key = card_key(card)
            if RenewalNotice.objects.filter(subscription=sub, key=key).exists():
                return None
            plan = renewing_plan(sub)
            renews_at = sub.current_period_end
            amount = renewal_price(sub, plan, start=renews_at)
            expires_at = card_expires_at(card)
            return _notice(
                sub,
                kind=NoticeKind.CARD_EXPIRY,
                key=key,
                event=EventKind.CARD_EXPIRY_NOTICE,
                renews_at=renews_at,
                price_minor=amount,
                currency=plan.currency,
                now=now,
                late=False,
                template="card_expiring",
                context={
                    "plan": plan,
                    "card": card,
                    "expired": expires_at <= now,
                    # A calendar day (the card's last month's last day), not a moment in
                    # the site's time zone.
                    "last_day": (expires_at - timedelta(days=1)).date(),
                    "fails_renewal": expires_at <= renews_at,
                    "renews_at": renews_at,
                    "amount": format_money(amount, plan.currency),
                    "card_url": card_update_url(),
                },
                data={"card": card.pk, "expires": f"{card.exp_year}-{card.exp_month:02d}"},
            )
    except IntegrityError:
        return None
