"""Renewal compliance: the notice before a yearly renewal, the notice before a price change,
and the price a renewal charges once a change was announced (docs/renewals.md, decision 0032).

Each notice is one action: the subscription row locked, the rule re-checked under the lock,
the e-mail written to the outbox, the `RenewalNotice` row with the exact text (unique per
subscription and key, so two job runs at once send one) and its history row."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from masthead.core.money import format_money
from masthead.subscriptions import emails
from masthead.subscriptions.actions.errors import SubscriptionError
from masthead.subscriptions.actions.transitions import lock, transition
from masthead.subscriptions.models import (
    EventKind,
    Interval,
    NoticeKind,
    Plan,
    PlanPriceChange,
    RenewalNotice,
    Status,
    Subscription,
)

# A paused subscription renews when its pause is over (at its moved date): it is told too.
RENEWING = (Status.ACTIVE, Status.TRIALING, Status.PAUSED)


def window() -> tuple[timedelta, timedelta]:
    """(at least, at most) before a renewal, from the settings."""
    return (
        timedelta(days=settings.RENEWAL_NOTICE_MIN_DAYS),
        timedelta(days=settings.RENEWAL_NOTICE_MAX_DAYS),
    )


def price_notice_period() -> timedelta:
    return timedelta(days=settings.PRICE_CHANGE_NOTICE_DAYS)


def renewing_plan(sub: Subscription) -> Plan:
    return sub.next_plan or sub.plan


def gets_renewal_notice(sub: Subscription) -> bool:
    """Yearly auto-renewals only, unless MASTHEAD_RENEWAL_NOTICE_MONTHLY: the law's notice
    rule is for terms of a year or more (a monthly subscriber is charged every month and
    sees it on every statement)."""
    if sub.status not in RENEWING or not sub.auto_renew:
        return False
    return renewing_plan(sub).interval == Interval.YEAR or settings.RENEWAL_NOTICE_MONTHLY


def renewal_notice_due_at(sub: Subscription) -> datetime | None:
    """When this period's notice is due: MAX days before the renewal, or at once for a
    period that began inside the window. None when no notice is owed."""
    if not gets_renewal_notice(sub):
        return None
    _, at_most = window()
    return max(sub.current_period_end - at_most, sub.current_period_start)


def renewal_key(sub: Subscription) -> str:
    """One notice per period; a period whose renewal date a pause or a free month moved
    (decision 0035) is owed a notice of the moved date, under a new key."""
    if sub.renewal_moves:
        return f"renewal-{sub.period_number}-m{sub.renewal_moves}"
    return f"renewal-{sub.period_number}"


def renewal_price(sub: Subscription, plan: Plan, *, start: datetime) -> int:
    """`unit_renewal_price` times the seats bought (a group plan; one otherwise), less a
    save offer's discount while it lasts (decision 0035)."""
    price = unit_renewal_price(sub, plan, start=start) * (sub.seats if plan.group else 1)
    if sub.discount_renewals and sub.discount_percent:
        price -= price * sub.discount_percent // 100
    return price


def unit_renewal_price(sub: Subscription, plan: Plan, *, start: datetime) -> int:
    """What the renewal starting at `start` charges: the plan's price, unless it changed after
    this subscriber joined and their notice of it is not PRICE_CHANGE_NOTICE_DAYS old by
    `start`; then the price before that change (walking back through older changes)."""
    price = plan.price_minor
    after = sub.started_at
    changes = PlanPriceChange.objects.filter(plan=plan).order_by("-announced_at", "-pk")
    for change in changes:
        if change.announced_at <= after:
            return price  # the reader agreed to this price when they subscribed
        notice = RenewalNotice.objects.filter(subscription=sub, price_change=change).first()
        if notice is not None and notice.sent_at + price_notice_period() <= start:
            return price
        price = change.old_price_minor
    return price


def send_renewal_notice(subscription: Subscription, *, now: datetime) -> RenewalNotice | None:
    """The notice for the coming renewal, once per period; None when none is owed now."""
    try:
        with transaction.atomic():
            sub = lock(subscription)
            due = renewal_notice_due_at(sub)
            if due is None or due > now or sub.current_period_end <= now:
                return None
            key = renewal_key(sub)
            if RenewalNotice.objects.filter(subscription=sub, key=key).exists():
                return None
            at_least, at_most = window()
            renews_at = sub.current_period_end
            plan = renewing_plan(sub)
            price = renewal_price(sub, plan, start=renews_at)
            late = renews_at - now < at_least and sub.current_period_start <= renews_at - at_most
            return _notice(
                sub,
                kind=NoticeKind.RENEWAL,
                key=key,
                event=EventKind.RENEWAL_NOTICE,
                renews_at=renews_at,
                price_minor=price,
                currency=plan.currency,
                now=now,
                late=late,
                template="renewal_notice",
                context={
                    "plan": plan,
                    "renews_at": renews_at,
                    "price": format_money(price, plan.currency),
                    "every": "month" if plan.interval == Interval.MONTH else "year",
                },
            )
    except IntegrityError:
        return None  # another worker sent it (one_notice_per_key)


def change_plan_price(
    plan: Plan, new_price_minor: int, *, now: datetime, actor: Any, reason: str = ""
) -> PlanPriceChange:
    """Staff set a new price. New checkouts pay it from now (their consent shows it); every
    live subscriber on the plan is sent a notice by the `subscriptions.price_notices` job and
    pays it from their first renewal at least PRICE_CHANGE_NOTICE_DAYS after that notice."""
    if new_price_minor < 0:
        raise SubscriptionError("A price cannot be negative.")
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.price_minor == new_price_minor:
            raise SubscriptionError("The plan already has this price.")
        change = PlanPriceChange.objects.create(
            plan=locked,
            old_price_minor=locked.price_minor,
            new_price_minor=new_price_minor,
            announced_at=now,
            actor=actor if getattr(actor, "pk", None) else None,
            reason=reason,
        )
        locked.price_minor = new_price_minor
        locked.save(update_fields=["price_minor"])
    plan.price_minor = new_price_minor
    return change


def price_key(change: PlanPriceChange) -> str:
    return f"price-{change.pk}"


def owes_price_notice(sub: Subscription, change: PlanPriceChange) -> bool:
    """A live, renewing subscriber who joined before the change and renews into its plan."""
    return (
        sub.status in RENEWING
        and sub.auto_renew
        and renewing_plan(sub).pk == change.plan_id
        and sub.started_at < change.announced_at
    )


def first_renewal_at_new_price(sub: Subscription, *, notice_at: datetime) -> datetime:
    """The first renewal at least PRICE_CHANGE_NOTICE_DAYS after the notice."""
    from masthead.subscriptions.actions.periods import add_months

    at = sub.current_period_end
    months = renewing_plan(sub).months
    while at < notice_at + price_notice_period():
        at = add_months(at, months)
    return at


def send_price_notice(
    subscription: Subscription, change: PlanPriceChange, *, now: datetime
) -> RenewalNotice | None:
    """The notice of `change` to one subscriber, once; None when none is owed."""
    try:
        with transaction.atomic():
            sub = lock(subscription)
            if not owes_price_notice(sub, change) or sub.current_period_end <= now:
                return None
            key = price_key(change)
            if RenewalNotice.objects.filter(subscription=sub, key=key).exists():
                return None
            plan = change.plan
            applies_at = first_renewal_at_new_price(sub, notice_at=now)
            every = "month" if plan.interval == Interval.MONTH else "year"
            return _notice(
                sub,
                kind=NoticeKind.PRICE_CHANGE,
                key=key,
                event=EventKind.PRICE_NOTICE,
                renews_at=applies_at,
                price_minor=change.new_price_minor,
                currency=plan.currency,
                now=now,
                late=False,
                price_change=change,
                template="price_notice",
                context={
                    "plan": plan,
                    "old_price": format_money(change.old_price_minor, plan.currency),
                    "new_price": format_money(change.new_price_minor, plan.currency),
                    "every": every,
                    "applies_at": applies_at,
                    "first_renewal_at": sub.current_period_end,
                },
            )
    except IntegrityError:
        return None


def _notice(
    sub: Subscription,
    *,
    kind: str,
    key: str,
    event: str,
    renews_at: datetime,
    price_minor: int,
    currency: str,
    now: datetime,
    late: bool,
    template: str,
    context: dict[str, Any],
    price_change: PlanPriceChange | None = None,
    data: dict[str, Any] | None = None,
) -> RenewalNotice:
    with transaction.atomic():  # a savepoint: a lost race rolls back the e-mail too
        sent = emails.on_commit(template, sub, **context)
        subject, body = sent or emails.render(template, sub, **context)
        notice = RenewalNotice.objects.create(
            subscription=sub,
            kind=kind,
            key=key,
            price_change=price_change,
            renews_at=renews_at,
            price_minor=price_minor,
            currency=currency,
            sent_at=now,
            late=late,
            to_email=sub.user.email if sent else "",
            subject=subject,
            body=body,
        )
        transition(
            sub,
            sub.status,
            event,
            at=now,
            data={"notice": notice.pk, "key": key, "late": late, **(data or {})},
        )
    return notice
