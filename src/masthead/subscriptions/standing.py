"""The standing notice: what a reader is told on every page about their subscription while it
needs them (docs/dunning.md, decision 0038).

`standing_notice(entitlement)` answers "what standing notice does this reader get", from the
entitlement alone, so the banner costs nothing the access decision has not already read (the
request reads the reader's subscription once: `entitlements.latest_subscription`). A
standing is a row of `NOTICES`, keyed by the entitlement's status: a new one (a paused
subscription) is one more row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from masthead.subscriptions.entitlements import Entitlement, entitlement_for


class Standing(enum.StrEnum):
    PAST_DUE = "past_due"
    PAUSED = "paused"


@dataclass(frozen=True)
class StandingNotice:
    standing: Standing
    # Lazy translations (Any: django-stubs' _StrPromise), rendered in the reader's language.
    label: Any  # the region's accessible name
    text: Any  # what comes before the link
    link_text: Any  # the link's words: what to do
    url_name: str  # where the link goes (a URL name)


# Entitlement status -> the notice that reader gets: a past-due reader who still reads
# everything (one whose grace period ended is expired, not past due), and a paused one.
NOTICES: dict[str, StandingNotice] = {
    "past_due": StandingNotice(
        Standing.PAST_DUE,
        label=_("Payment problem"),
        text=_("Your last payment didn't go through —"),
        link_text=_("update your card to keep reading"),
        url_name="subscriptions:payment_method",
    ),
    # A paused reader reads previews only until the pause ends (decision 0035): the way back
    # is on the account page, one button.
    "paused": StandingNotice(
        Standing.PAUSED,
        label=_("Subscription paused"),
        text=_("Your subscription is paused —"),
        link_text=_("resume it to read everything again"),
        url_name="subscriptions:account",
    ),
}


def standing_notice(entitlement: Entitlement) -> StandingNotice | None:
    """The notice this entitlement carries on every page, or None."""
    return NOTICES.get(entitlement.status)


def standing_notice_for(user_id: int | None, *, now: datetime) -> StandingNotice | None:
    return standing_notice(entitlement_for(user_id, now=now))
