"""The state machine as data: every allowed (from, to) move per event, and the one function
that applies a move, saves exactly the fields it changed and writes the history row.

    trialing ──renew──▶ active ──renew──▶ active
       │ │                │  ▲ └─payment fails─▶ past_due ──retry ok──┘
       │ └─cancel─┐       │  └──resume──┐          └─retries exhausted─▶ expired
       │          ▼       └─cancel──▶ cancelled ──period ends──▶ expired
       └─ends without a card ─────────────────────────────────▶ expired
    complimentary ──end date──▶ expired      (a gift: gift_added pushes the end date on)
    active ──pause (1-3 months)──▶ paused ──unpause (the reader, or the job at its end)──▶ active
                                      └─cancel─▶ cancelled   (docs/retention.md)

A new subscription is a move from "" (nothing). Anything not in MOVES is refused with
IllegalTransition before a single field is written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model

from masthead.core import events, reader_state
from masthead.subscriptions.actions.errors import IllegalTransition
from masthead.subscriptions.models import EventKind, Status, Subscription, SubscriptionEvent

NEW = ""  # the "from" state of a subscription being created
_ALL = tuple(Status.values)
_LIVE = tuple(s for s in _ALL if s != Status.EXPIRED)
# States a payment provider (Stripe) may report for a subscription it bills (paused: its
# collection is paused, `pause_collection`).
PROVIDER_STATES = (
    Status.TRIALING,
    Status.ACTIVE,
    Status.PAST_DUE,
    Status.CANCELLED,
    Status.PAUSED,
)
# Retention history rows (the reason, the save offer's outcome) change no status.
_CANCELLABLE = (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE, Status.PAUSED)

MOVES: dict[str, frozenset[tuple[str, str]]] = {
    EventKind.TRIAL_STARTED: frozenset({(NEW, Status.TRIALING)}),
    EventKind.SUBSCRIBED: frozenset({(NEW, Status.ACTIVE)}),
    EventKind.COMP_GRANTED: frozenset({(NEW, Status.COMPLIMENTARY)}),
    EventKind.RENEWED: frozenset(
        {
            (Status.TRIALING, Status.ACTIVE),
            (Status.ACTIVE, Status.ACTIVE),
            (Status.PAST_DUE, Status.ACTIVE),
        }
    ),
    EventKind.PAYMENT_FAILED: frozenset(
        {
            (Status.TRIALING, Status.PAST_DUE),
            (Status.ACTIVE, Status.PAST_DUE),
            (Status.PAST_DUE, Status.PAST_DUE),
        }
    ),
    EventKind.CANCELLED: frozenset(
        {
            (Status.TRIALING, Status.CANCELLED),
            (Status.ACTIVE, Status.CANCELLED),
            (Status.PAUSED, Status.CANCELLED),
        }
    ),
    EventKind.PAUSED: frozenset({(Status.ACTIVE, Status.PAUSED)}),
    EventKind.UNPAUSED: frozenset({(Status.PAUSED, Status.ACTIVE)}),
    EventKind.CANCEL_REASON: frozenset((s, s) for s in _CANCELLABLE),
    # Accepting a save offer: a discount or a free month keeps the state; a pause is PAUSED.
    EventKind.SAVE_OFFER_ACCEPTED: frozenset(
        {(Status.ACTIVE, Status.ACTIVE), (Status.PAUSED, Status.PAUSED)}
    ),
    EventKind.SAVE_OFFER_DECLINED: frozenset((s, s) for s in _CANCELLABLE),
    # The win-back e-mail is sent once to a lapsed subscription.
    EventKind.WINBACK_SENT: frozenset({(Status.EXPIRED, Status.EXPIRED)}),
    EventKind.RESUMED: frozenset(
        {(Status.CANCELLED, Status.ACTIVE), (Status.CANCELLED, Status.TRIALING)}
    ),
    EventKind.PLAN_CHANGED: frozenset(
        {(Status.ACTIVE, Status.ACTIVE), (Status.TRIALING, Status.TRIALING)}
    ),
    EventKind.PLAN_CHANGE_SCHEDULED: frozenset(
        {(Status.ACTIVE, Status.ACTIVE), (Status.TRIALING, Status.TRIALING)}
    ),
    EventKind.TRIAL_REMINDER: frozenset({(Status.TRIALING, Status.TRIALING)}),
    EventKind.EXPIRED: frozenset((s, Status.EXPIRED) for s in _LIVE),
    # Money back and provider-confirmed payments change no status.
    EventKind.REFUNDED: frozenset((s, s) for s in _ALL),
    EventKind.PAYMENT_RECORDED: frozenset((s, s) for s in _ALL),
    # Notices (renewal, price change) change no status.
    EventKind.RENEWAL_NOTICE: frozenset((s, s) for s in _LIVE),
    EventKind.PRICE_NOTICE: frozenset((s, s) for s in _LIVE),
    # Dunning (docs/dunning.md): a failed-payment e-mail only while past due; a card-expiry
    # reminder only to a subscription that renews onto the card.
    EventKind.DUNNING_NOTICE: frozenset({(Status.PAST_DUE, Status.PAST_DUE)}),
    EventKind.CARD_EXPIRY_NOTICE: frozenset(
        {(Status.ACTIVE, Status.ACTIVE), (Status.TRIALING, Status.TRIALING)}
    ),
    # A redeemed gift subscription stacks its months after the current period (giftsubs).
    EventKind.GIFT_ADDED: frozenset(
        (s, s) for s in (Status.TRIALING, Status.ACTIVE, Status.CANCELLED, Status.COMPLIMENTARY)
    ),
    # The provider's copy: created in any state it reports (ended ones too), then moved
    # between the states it reports; it ends through EXPIRED.
    EventKind.PROVIDER_SYNC: frozenset(
        {(NEW, s) for s in (*PROVIDER_STATES, Status.EXPIRED)}
        | {(a, b) for a in PROVIDER_STATES for b in PROVIDER_STATES}
    ),
}


def allowed(event: str, from_status: str, to_status: str) -> bool:
    return (from_status, to_status) in MOVES.get(event, frozenset())


def _refuse(event: str, from_status: str, to_status: str) -> None:
    if not allowed(event, from_status, to_status):
        raise IllegalTransition(
            f"{event}: {from_status or 'new'} -> {to_status} is not an allowed move."
        )


def _event(
    sub: Subscription,
    event: str,
    from_status: str,
    *,
    at: datetime,
    actor: Any,
    reason: str,
    data: dict[str, Any] | None,
) -> None:
    SubscriptionEvent.objects.create(
        subscription=sub,
        kind=event,
        from_status=from_status,
        to_status=sub.status,
        at=at,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        # The plan in force after the move, so the history alone gives MRR at any moment.
        data={"plan_id": sub.plan_id, **(data or {})},
    )
    _note_funnel(sub, event, from_status, at=at, reason=reason)


def funnel_event(event: str, from_status: str, to_status: str) -> str | None:
    """The insights event a subscription's move is (docs/insights.md), if any."""
    if event == EventKind.PROVIDER_SYNC:  # the provider's copy: judged by the states it moved
        if from_status == to_status:
            return None
        if to_status == Status.TRIALING and from_status == NEW:
            return events.TRIAL_STARTED
        if to_status == Status.ACTIVE and from_status in (NEW, Status.TRIALING):
            return events.FIRST_PAYMENT
        if to_status == Status.ACTIVE and from_status == Status.PAST_DUE:
            return events.RENEWED
        by_state: dict[str, str] = {
            Status.PAST_DUE: events.PAYMENT_FAILED,
            Status.CANCELLED: events.CANCELLED,
            Status.EXPIRED: events.LAPSED,
        }
        return by_state.get(to_status)
    if event == EventKind.RENEWED:
        return events.FIRST_PAYMENT if from_status == Status.TRIALING else events.RENEWED
    by_event: dict[str, str] = {
        EventKind.TRIAL_STARTED: events.TRIAL_STARTED,
        EventKind.SUBSCRIBED: events.FIRST_PAYMENT,
        EventKind.PAYMENT_FAILED: events.PAYMENT_FAILED,
        EventKind.CANCELLED: events.CANCELLED,
        EventKind.EXPIRED: events.LAPSED,
    }
    return by_event.get(event)


def _note_funnel(
    sub: Subscription, event: str, from_status: str, *, at: datetime, reason: str
) -> None:
    name = funnel_event(event, from_status, sub.status)
    if name is None:
        return
    props: dict[str, Any] = {"plan": sub.plan_id, "offer": sub.offer_id}
    if name in (events.FIRST_PAYMENT, events.RENEWED):
        props["amount_minor"] = sub.plan.price_minor
        props["currency"] = sub.plan.currency
    if name == events.CANCELLED:
        # An erasure's reason may name the reader: only its kind is recorded.
        props["reason"] = "account erased" if reason.startswith("Account erased") else reason[:40]
    if name == events.LAPSED:
        props["reason"] = "passive" if from_status == Status.PAST_DUE else "active"
    # After commit: a rolled-back move records nothing.
    events.record(name, events.account(sub.user_id), at=at, **props)


def create(
    to: str,
    event: str,
    *,
    at: datetime,
    actor: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Subscription:
    """A new subscription in state `to`, with its first history row."""
    _refuse(event, NEW, to)
    sub = Subscription.objects.create(status=to, **fields)
    _event(sub, event, NEW, at=at, actor=actor, reason=reason, data=data)
    return sub


def transition(
    sub: Subscription,
    to: str,
    event: str,
    *,
    at: datetime,
    actor: Any = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Subscription:
    """Move a locked subscription to `to` for `event`, setting `fields`; saves the status and
    exactly those fields, and records the history row. Refuses moves not in MOVES."""
    from_status = sub.status
    _refuse(event, from_status, to)
    for name in fields:
        Subscription._meta.get_field(name)  # FieldDoesNotExist on a typo, before any write
    for name, value in fields.items():
        setattr(sub, name, value)
    sub.status = to
    sub.save(update_fields=sorted({*fields, "status", "updated_at"}))
    # The reader's cached subscription (and so their entitlement) is retired in every
    # process, now and on commit (the save's signal does it too; this is the one door).
    reader_state.bump(sub.user_id)
    _event(sub, event, from_status, at=at, actor=actor, reason=reason, data=data)
    return sub


def lock(subscription: Subscription) -> Subscription:
    """The subscription's row, locked until the transaction ends, with what actions read."""
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("plan", "offer", "next_plan", "user")
        .get(pk=subscription.pk)
    )


def lock_reader(user: Any) -> None:
    """Serialize one reader's checkouts (a double click waits for the first click)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
