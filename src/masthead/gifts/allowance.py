"""Who may give articles, and how many gift links they have left this month."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from masthead.metering.identity import reads_as_staff
from masthead.metering.policy import current_policy, month_window
from masthead.subscriptions.entitlements import entitlement_for

# Paying (or comped) subscribers give; a trial or an overdue payment does not.
GIVING_STATUSES = frozenset({"active", "cancelled", "complimentary"})


def is_staff(user: Any) -> bool:
    return reads_as_staff(user)


def may_give(user: Any, *, now: datetime) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if is_staff(user):
        return True
    entitlement = entitlement_for(user.pk, now=now)
    return entitlement.reads_everything and entitlement.status in GIVING_STATUSES


def used_this_month(user_id: int, *, now: datetime) -> int:
    """Gift links created this calendar month (revoked ones included: revoking gives none
    back, or revoke-and-create would make the allowance unlimited)."""
    from masthead.gifts.models import GiftLink

    window = month_window(now)
    return GiftLink.objects.filter(
        giver_id=user_id, created_at__gte=window.opens_at, created_at__lt=window.closes_at
    ).count()


def gifts_left(user: Any, *, now: datetime) -> int | None:
    """How many more gift links `user` may create this month; None for no limit (staff)."""
    if is_staff(user):
        return None
    return max(0, current_policy().gift_allowance - used_this_month(user.pk, now=now))
