"""What a reader's subscription entitles them to. The contract masthead.access reads.

Derived from the reader's latest subscription and the time alone (one query, or one shared
cache read: `latest_subscription`), so a renewal
job that runs late never locks a paying reader out and a lapse shows without waiting for it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings

from masthead.core import reader_state


class Lapse(enum.StrEnum):
    TRIAL = "trial"  # "Your trial period has expired"
    SUBSCRIPTION = "subscription"  # "Your full access to <site> has expired"


@dataclass(frozen=True)
class Entitlement:
    reads_everything: bool = False  # web and apps: "Read all stories with unlimited access"
    # trialing, active, past_due, cancelled, paused, expired, complimentary, none
    status: str = "none"
    lapsed: Lapse | None = None  # set when the reader had access and lost it
    plan_name: str = ""
    access_until: datetime | None = None  # when the current access ends unless renewed
    # Paused (docs/retention.md): no full access until this moment, when the pause ends by
    # itself; the reader may resume before it.
    paused_until: datetime | None = None


NO_ENTITLEMENT = Entitlement()


def latest_subscription(user_id: int) -> Any:
    """The reader's latest subscription (with its plan), or None: from the shared cache,
    stamped with the reader's version that every subscription save and `transition()` bump
    (`masthead.core.reader_state`); otherwise one query. What it entitles to is worked out
    from it and the time on every call, so a period that ends needs no invalidation."""
    from masthead.subscriptions.models import Subscription

    # Asked for again in the same request (the decision, the gift box, the standing notice):
    # what this request already read, no round trip (`reader_state.remembered`).
    remembered = reader_state.remembered(user_id, "subscription")
    if remembered is not reader_state.MISSING:
        return remembered
    # MASTHEAD_CACHE_SUBSCRIPTIONS=false (settings.CACHE_SUBSCRIPTIONS) turns the cache off.
    stamp, sub = (
        reader_state.read(user_id, "subscription")
        if reader_state.enabled() and settings.CACHE_SUBSCRIPTIONS
        else (None, reader_state.MISSING)
    )
    if sub is reader_state.MISSING:
        sub = (
            Subscription.objects.filter(user_id=user_id)
            .select_related("plan")
            .order_by("-created_at", "-pk")
            .first()
        )
        reader_state.keep(user_id, "subscription", stamp, sub)
    reader_state.remember(user_id, "subscription", sub)
    return sub


def entitlement_for(user_id: int | None, *, now: datetime) -> Entitlement:
    if user_id is None:
        return NO_ENTITLEMENT
    from masthead.subscriptions.models import Status

    sub = latest_subscription(user_id)
    if sub is None:
        return NO_ENTITLEMENT
    if sub.pause_holds_at(now):
        return Entitlement(
            status=Status.PAUSED,
            plan_name=sub.plan.name,
            paused_until=sub.paused_until,
        )
    if sub.has_access(now):
        return Entitlement(
            reads_everything=True,
            status=sub.status,
            plan_name=sub.plan.name,
            access_until=sub.access_until(),
        )
    return Entitlement(
        reads_everything=False,
        status=Status.EXPIRED,
        lapsed=Lapse.TRIAL if sub.was_trial_only else Lapse.SUBSCRIPTION,
        plan_name=sub.plan.name,
    )
