"""What a reader's subscription entitles them to. The contract masthead.access reads.

Derived from the reader's latest subscription and the time alone (one query), so a renewal
job that runs late never locks a paying reader out and a lapse shows without waiting for it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Lapse(enum.StrEnum):
    TRIAL = "trial"  # "Your trial period has expired"
    SUBSCRIPTION = "subscription"  # "Your full access to <site> has expired"


@dataclass(frozen=True)
class Entitlement:
    reads_everything: bool = False  # web and apps: "Read all stories with unlimited access"
    status: str = "none"  # trialing, active, past_due, cancelled, expired, complimentary, none
    lapsed: Lapse | None = None  # set when the reader had access and lost it
    plan_name: str = ""
    access_until: datetime | None = None  # when the current access ends unless renewed


NO_ENTITLEMENT = Entitlement()


def entitlement_for(user_id: int | None, *, now: datetime) -> Entitlement:
    if user_id is None:
        return NO_ENTITLEMENT
    from masthead.subscriptions.models import Status, Subscription

    sub = (
        Subscription.objects.filter(user_id=user_id)
        .select_related("plan")
        .order_by("-created_at", "-pk")
        .first()
    )
    if sub is None:
        return NO_ENTITLEMENT
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
