"""Which campaign is running now.

Every page asks (the banner is site-wide), so each process keeps the list of campaigns that
have not ended, stamped with the site generation (`masthead.core.generation`), and checks it
against the clock on every call: a window opens and closes on time with no deploy and no
query. Saving or deleting a campaign bumps the generation, so every process reloads the list
within a second.
"""

from __future__ import annotations

from datetime import datetime

from masthead.access.models import Campaign
from masthead.core import generation

_cache: dict[str, tuple[int, tuple[datetime, list[Campaign]]]] = {}


def _unfinished(now: datetime) -> list[Campaign]:
    stamp = generation.recent()
    cached = _cache.get("campaigns")
    # A cached list was loaded at some `now`; one loaded later (a moved demo clock) still
    # holds every campaign unfinished at an earlier time, but not the other way round.
    if cached and stamp is not None and cached[0] == stamp and cached[1][0] <= now:
        return cached[1][1]
    campaigns = list(Campaign.objects.filter(ends_at__gt=now).order_by("starts_at"))
    if stamp is not None:
        _cache["campaigns"] = (stamp, (now, campaigns))
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
