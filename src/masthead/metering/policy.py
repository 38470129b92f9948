"""The meter policy in force and the counting windows it defines.

The policy is read on every metered request, so each process keeps it, stamped with the site
generation (`masthead.core.generation`); saving the policy bumps the generation, so every
process reloads it within a second. When the generation cannot be read (the shared store is
down) the policy is read from the database each time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.translation import gettext, ngettext

from masthead.core import generation
from masthead.experiments import running
from masthead.experiments.models import Kind
from masthead.metering.models import MeterPolicy, PeriodKind

_KEPT = "metering.policy"


def current_policy() -> MeterPolicy:
    """The saved policy, or the safe defaults when staff never saved one."""
    return generation.kept(_KEPT, lambda: MeterPolicy.objects.first() or MeterPolicy())


def policy_for(key: str | None) -> MeterPolicy:
    """The policy as the reader with meter key `key` meets it: the saved policy, with the
    allowance and the preview length of their variant of a running split test
    (`masthead.experiments`, decision 0033). Every rule that reads an allowance or a preview
    length for a reader reads it here, so every door agrees. Never saved."""
    policy = current_policy()
    allowance = running.arm(Kind.ALLOWANCE, key)
    preview = running.arm(Kind.PREVIEW, key)
    if allowance is None and preview is None:
        return policy
    varied = copy.copy(policy)
    if allowance is not None:
        if allowance.anonymous_allowance is not None:
            varied.anonymous_allowance = allowance.anonymous_allowance
        if allowance.registered_allowance is not None:
            varied.registered_allowance = allowance.registered_allowance
    if preview is not None and preview.preview_blocks is not None:
        varied.preview_blocks = preview.preview_blocks
    return varied


def strictest_preview(policy: MeterPolicy) -> int:
    """The shortest preview any reader is shown now: the policy's, or the shortest arm of a
    running preview split test (the paywall audit's cut)."""
    experiment = running.running(Kind.PREVIEW)
    arms = experiment.arms if experiment else ()
    lengths = [a.preview_blocks for a in arms if a.preview_blocks is not None]
    return min([policy.preview_blocks, *lengths])


def forget_policy(**_: object) -> None:
    generation.drop(_KEPT)


@dataclass(frozen=True)
class Window:
    """A counting period: reads inside [opens_at, closes_at) share one allowance."""

    key: str
    opens_at: datetime
    closes_at: datetime


def site_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def month_window(now: datetime) -> Window:
    """The calendar month containing `now`, in the site's time zone."""
    local = now.astimezone(site_zone())
    opens = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    year, month = (opens.year + 1, 1) if opens.month == 12 else (opens.year, opens.month + 1)
    closes = opens.replace(year=year, month=month)
    return Window(f"m{opens:%Y-%m}", opens, closes)


def rolling_window(opens_at: datetime, days: int) -> Window:
    """A window of `days` days opened by a reader's first counted read."""
    return Window(f"r{days}-{int(opens_at.timestamp())}", opens_at, opens_at + timedelta(days=days))


def rolling_prefix(policy: MeterPolicy) -> str:
    """What every window key of the policy's rolling period starts with."""
    return f"r{policy.rolling_days}-"


def window_at(policy: MeterPolicy, now: datetime, closes_at: datetime) -> Window:
    """The window of `policy` in force at `now` that closes at `closes_at`."""
    window = fixed_window(policy, now)
    if window:
        return window
    return rolling_window(closes_at - timedelta(days=policy.rolling_days), policy.rolling_days)


def fixed_window(policy: MeterPolicy, now: datetime) -> Window | None:
    """The window every reader shares at `now`, or None when each reader opens their own."""
    if policy.period_kind == PeriodKind.ROLLING_DAYS:
        return None
    return month_window(now)


def new_window(policy: MeterPolicy, now: datetime) -> Window:
    return fixed_window(policy, now) or rolling_window(now, policy.rolling_days)


def period_phrase(policy: MeterPolicy) -> str:
    """'this month' or 'in the next 30 days', translated."""
    if policy.period_kind == PeriodKind.ROLLING_DAYS:
        return ngettext(
            "in the next %(days)d day", "in the next %(days)d days", policy.rolling_days
        ) % {"days": policy.rolling_days}
    return gettext("this month")
