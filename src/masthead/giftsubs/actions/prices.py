"""What a gift costs and when it may be delivered (read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from masthead.core.money import format_money
from masthead.giftsubs.models import DURATIONS, GiftPrice
from masthead.subscriptions.models import Interval, Plan

MAX_DELIVERY_DAYS = 365


def gift_plan(now: datetime) -> Plan | None:
    """The plan a gift gives: the cheapest live monthly plan."""
    plans = Plan.objects.filter(interval=Interval.MONTH).order_by("price_minor", "pk")
    return next((p for p in plans if p.is_live(now)), None)


def price_for(months: int, plan: Plan) -> tuple[int, str]:
    """(price in minor units, currency): the staff's price for that duration, else the
    monthly plan's price times the months."""
    row = GiftPrice.objects.filter(months=months).first()
    if row is not None:
        return row.price_minor, row.currency
    return plan.price_minor * months, plan.currency


@dataclass(frozen=True)
class Choice:
    months: int
    label: str
    price_minor: int
    price_text: str


def choices(plan: Plan) -> list[Choice]:
    out = []
    for months in DURATIONS:
        minor, currency = price_for(months, plan)
        label = "1 month" if months == 1 else f"{months} months"
        out.append(Choice(months, label, minor, format_money(minor, currency)))
    return out


def today(now: datetime) -> date:
    return timezone.localtime(now).date()


def delivery_refusal(deliver_on: date | None, *, now: datetime) -> str | None:
    if deliver_on is None:
        return None
    first = today(now)
    if deliver_on < first:
        return "Choose today or a day in the future."
    if deliver_on > first + timedelta(days=MAX_DELIVERY_DAYS):
        return "Choose a day within a year from today."
    return None


def delivery_moment(deliver_on: date | None, *, now: datetime) -> datetime:
    """Now for no date or today; otherwise the start of that day in the site's time zone."""
    if deliver_on is None or deliver_on <= today(now):
        return now
    return timezone.make_aware(datetime.combine(deliver_on, time.min))
