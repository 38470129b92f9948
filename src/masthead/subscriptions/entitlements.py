"""What a reader's subscription entitles them to. The contract masthead.access reads.

PLACEHOLDER until the subscriptions issue lands: nobody is a subscriber.
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


NO_ENTITLEMENT = Entitlement()


def entitlement_for(user_id: int | None, *, now: datetime) -> Entitlement:
    return NO_ENTITLEMENT
