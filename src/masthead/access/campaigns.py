"""Which campaign is running now.

Every page asks (the banner is site-wide), so each process keeps the list of campaigns that
have not ended for a few seconds and checks it against the clock on every call: a window
opens and closes on time with no deploy and no query. Saving a campaign clears the list.
"""

from __future__ import annotations

import time
from datetime import datetime

from masthead.access.models import Campaign

CAMPAIGNS_TTL_SECONDS = 15.0
_cache: dict[str, tuple[float, list[Campaign]]] = {}


def _unfinished(now: datetime) -> list[Campaign]:
    cached = _cache.get("campaigns")
    if cached and time.monotonic() - cached[0] < CAMPAIGNS_TTL_SECONDS:
        return cached[1]
    campaigns = list(Campaign.objects.filter(ends_at__gt=now).order_by("starts_at"))
    _cache["campaigns"] = (time.monotonic(), campaigns)
    return campaigns


def active_campaign(now: datetime) -> Campaign | None:
    return next((c for c in _unfinished(now) if c.starts_at <= now < c.ends_at), None)


def forget_campaigns(**_: object) -> None:
    _cache.clear()


def campaign_state(campaign: Campaign, now: datetime) -> str:
    """'upcoming', 'running' or 'ended', by the clock."""
    if now < campaign.starts_at:
        return "upcoming"
    return "running" if now < campaign.ends_at else "ended"
