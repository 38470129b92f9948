"""Which save offer a cancelling reader is shown: rules as data (settings.SAVE_OFFER_RULES),
read in order, the first that fits wins (decision 0035, docs/retention.md).

A rule fits when the reader's reason is among its `reasons` (an empty list: any reason, or
none given), the subscription is at least `min_tenure_months` old, and its offer applies to
this subscription (`_applies`). No rule fits a reader who accepted a save offer in the last
SAVE_OFFER_COOLDOWN_MONTHS, nor a subscription that is not active (a trialist has paid
nothing to be saved from; a past-due or paused one is not renewing now).

Read-only: choosing writes nothing. The actions (`actions.retention`) re-check the choice
under the subscription's row lock before they apply it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from masthead.core.money import format_money
from masthead.subscriptions.actions.periods import add_months
from masthead.subscriptions.models import EventKind, Plan, Status, Subscription, SubscriptionEvent

# Why a reader cancels: a fixed list, plus "other" with the reader's own words (all optional).
REASONS: list[tuple[str, Any]] = [
    ("too_expensive", _("It costs too much")),
    ("not_reading", _("I don't read it enough")),
    ("taking_a_break", _("I'm taking a break")),
    ("coverage", _("I don't like the coverage")),
    ("technical", _("Something on the site or in the apps doesn't work")),
    ("other", _("Another reason")),
]
REASON_CODES = frozenset(code for code, _label in REASONS)
OFFERS = ("pause", "downgrade", "discount", "free_month")


@dataclass(frozen=True)
class Rule:
    offer: str
    reasons: frozenset[str] = frozenset()
    min_tenure_months: int = 0
    percent: int = 0  # discount
    renewals: int = 0  # discount

    @classmethod
    def of(cls, data: dict[str, Any]) -> Rule:
        offer = str(data["offer"])
        if offer not in OFFERS:
            raise ValueError(f"SAVE_OFFER_RULES: unknown offer {offer!r}")
        rule = cls(
            offer=offer,
            reasons=frozenset(str(r) for r in data.get("reasons", ()) or ()),
            min_tenure_months=int(data.get("min_tenure_months", 0)),
            percent=int(data.get("percent", 0)),
            renewals=int(data.get("renewals", 0)),
        )
        if offer == "discount" and not (0 < rule.percent < 100 and rule.renewals > 0):
            raise ValueError("SAVE_OFFER_RULES: a discount needs 0 < percent < 100, renewals > 0")
        return rule


@dataclass(frozen=True)
class SaveOffer:
    """The one save offer shown, in the reader's words."""

    kind: str
    headline: str
    detail: str
    pause_months: tuple[int, ...] = ()
    plan: Plan | None = None
    percent: int = 0
    renewals: int = 0
    rule: Rule = field(default_factory=lambda: Rule("pause"))


def rules() -> list[Rule]:
    return [Rule.of(data) for data in settings.SAVE_OFFER_RULES]


def tenure_months(sub: Subscription, now: datetime) -> int:
    """Whole months since the subscription started."""
    months = 0
    while months < 1200 and add_months(sub.started_at, months + 1) <= now:
        months += 1
    return months


def accepted_recently(user_id: int, now: datetime) -> bool:
    """A save offer was accepted within the cooldown (on any of the reader's subscriptions)."""
    since = add_months(now, -settings.SAVE_OFFER_COOLDOWN_MONTHS)
    return SubscriptionEvent.objects.filter(
        subscription__user_id=user_id, kind=EventKind.SAVE_OFFER_ACCEPTED, at__gt=since
    ).exists()


def cheaper_plan(sub: Subscription, now: datetime) -> Plan | None:
    """The dearest live plan cheaper than the current one, with the same interval."""
    candidates = [
        plan
        for plan in Plan.objects.filter(
            interval=sub.plan.interval,
            group=False,
            price_minor__lt=sub.plan.price_minor,
            currency=sub.plan.currency,
        ).order_by("-price_minor")
        if plan.is_live(now)
    ]
    return candidates[0] if candidates else None


def pause_months() -> tuple[int, ...]:
    return tuple(range(1, settings.PAUSE_MAX_MONTHS + 1))


def _applies(rule: Rule, sub: Subscription, now: datetime) -> SaveOffer | None:
    """The offer this rule makes to this subscription, or None when it cannot apply."""
    bills_itself = not (sub.provider == "stripe" and sub.provider_ref)
    if rule.offer == "pause":
        if pause_refusal(sub) is not None:
            return None
        return SaveOffer(
            kind="pause",
            headline=str(_("Pause instead of cancelling")),
            detail=str(
                _(
                    "Take a break of up to %(n)s months: nothing is charged while paused, "
                    "and your renewal date moves on by the time you are away."
                )
                % {"n": settings.PAUSE_MAX_MONTHS}
            ),
            pause_months=pause_months(),
            rule=rule,
        )
    if rule.offer == "downgrade":
        plan = cheaper_plan(sub, now) if bills_itself else None
        if plan is None:
            return None
        return SaveOffer(
            kind="downgrade",
            headline=str(_("Switch to %(plan)s") % {"plan": plan.name}),
            detail=str(
                _("%(price)s from your next renewal; nothing is charged today.")
                % {"price": plan.price_text}
            ),
            plan=plan,
            rule=rule,
        )
    if not bills_itself:
        return None  # discounts and free months are Masthead's own billing (docs/retention.md)
    if rule.offer == "discount":
        price = sub.plan.price_minor * (sub.seats if sub.plan.group else 1)
        reduced = price - price * rule.percent // 100
        return SaveOffer(
            kind="discount",
            headline=str(
                _("%(percent)s%% off your next %(n)s renewals")
                % {"percent": rule.percent, "n": rule.renewals}
            ),
            detail=str(
                _("Pay %(reduced)s instead of %(price)s for the next %(n)s renewals.")
                % {
                    "reduced": format_money(reduced, sub.plan.currency),
                    "price": format_money(price, sub.plan.currency),
                    "n": rule.renewals,
                }
            ),
            percent=rule.percent,
            renewals=rule.renewals,
            rule=rule,
        )
    return SaveOffer(
        kind="free_month",
        headline=str(_("A month on us")),
        detail=str(
            _("Stay and your next renewal moves from %(old)s to %(new)s, free of charge.")
            % {
                "old": f"{sub.current_period_end:%B %-d, %Y}",
                "new": f"{add_months(sub.current_period_end, 1):%B %-d, %Y}",
            }
        ),
        rule=rule,
    )


def pause_refusal(sub: Subscription, months: int | None = None) -> str | None:
    """Why this subscription may not be paused (for `months`), in words; None when it may."""
    if sub.status != Status.ACTIVE or not sub.auto_renew:
        return str(_("Only an active, renewing subscription can be paused."))
    if sub.plan.group:
        return str(_("A group subscription cannot be paused; its members would lose access."))
    if sub.next_plan_id is not None:
        return str(_("A plan change is scheduled; pause after it applies."))
    if months is not None and months not in pause_months():
        return str(_("A pause is 1 to %(n)s months.") % {"n": settings.PAUSE_MAX_MONTHS})
    return None


def might_offer(sub: Subscription, *, now: datetime) -> bool:
    """Whether some reason (or none) would get a save offer: the cancel form's button then
    leads to the page with the offer beside the confirm; otherwise it cancels at once."""
    if sub.status != Status.ACTIVE or accepted_recently(sub.user_id, now):
        return False
    tenure = tenure_months(sub, now)
    return any(
        tenure >= rule.min_tenure_months and _applies(rule, sub, now) is not None
        for rule in rules()
    )


def choose(sub: Subscription, reason: str, *, now: datetime) -> SaveOffer | None:
    """The save offer for a reader cancelling `sub` for `reason` ("" when none given)."""
    if sub.status != Status.ACTIVE or accepted_recently(sub.user_id, now):
        return None
    tenure = tenure_months(sub, now)
    for rule in rules():
        if rule.reasons and reason not in rule.reasons:
            continue
        if tenure < rule.min_tenure_months:
            continue
        offer = _applies(rule, sub, now)
        if offer is not None:
            return offer
    return None
