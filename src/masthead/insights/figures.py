"""How each dashboard figure is computed (docs/insights.md says the same in prose).

Every figure is read from the aggregates (`ReaderDay`, `Conversion`), never from a cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, F, Sum
from django.utils import timezone

from masthead.core import clock
from masthead.insights.models import Conversion, DailyCount, ReaderDay, Step

PRESETS = (7, 30, 90)


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} to {self.end:%Y-%m-%d}"

    @property
    def since(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))


def last_days(days: int, today: date | None = None) -> Period:
    end = today or timezone.localdate(clock.now())
    return Period(end - timedelta(days=days - 1), end)


@dataclass(frozen=True)
class FunnelRow:
    step: str
    readers: int
    of_previous: float | None  # share of the step before (None for the first)
    drop_off: int  # readers lost since the step before


def funnel(period: Period) -> list[FunnelRow]:
    """Distinct readers who reached each step on some day of the period."""
    days = ReaderDay.objects.filter(day__gte=period.start, day__lte=period.end)
    rows: list[FunnelRow] = []
    previous: int | None = None
    for step in Step:
        readers = (
            days.annotate(has=F("steps").bitand(int(step)))
            .filter(has__gt=0)
            .values("reader")
            .distinct()
            .count()
        )
        share = (readers / previous) if previous else None
        rows.append(
            FunnelRow(
                step=str(step.label),
                readers=readers,
                of_previous=share if previous is not None else None,
                drop_off=max(0, previous - readers) if previous is not None else 0,
            )
        )
        previous = readers
    return rows


@dataclass(frozen=True)
class ConversionRow:
    key: Any
    label: str
    signed_up: int
    trials: int
    paid: int
    revenue_minor: int


def _conversions_by(field: str, period: Period) -> list[dict[str, Any]]:
    rows = (
        Conversion.objects.filter(at__gte=period.since, at__lt=period.until)
        .values(field, "kind")
        .annotate(n=Count("pk"), money=Sum("amount_minor"))
    )
    return list(rows)


def _fold(rows: list[dict[str, Any]], field: str, labels: dict[Any, str]) -> list[ConversionRow]:
    folded: dict[Any, dict[str, int]] = {}
    for row in rows:
        entry = folded.setdefault(row[field], {"signed_up": 0, "trials": 0, "paid": 0, "rev": 0})
        if row["kind"] == "signed_up":
            entry["signed_up"] += row["n"]
        elif row["kind"] == "trial_started":
            entry["trials"] += row["n"]
        elif row["kind"] == "first_payment":
            entry["paid"] += row["n"]
            entry["rev"] += row["money"] or 0
    result = [
        ConversionRow(
            key=key,
            label=labels.get(key, "(none)" if key is None else f"#{key}"),
            signed_up=v["signed_up"],
            trials=v["trials"],
            paid=v["paid"],
            revenue_minor=v["rev"],
        )
        for key, v in folded.items()
    ]
    return sorted(result, key=lambda r: (-r.paid, -r.trials, -r.signed_up, r.label))


def by_article(period: Period) -> list[ConversionRow]:
    """Conversions attributed to the last article read before converting."""
    from wagtail.models import Page

    rows = _conversions_by("article_id", period)
    ids = {r["article_id"] for r in rows if r["article_id"] is not None}
    titles = dict(Page.objects.filter(pk__in=ids).values_list("pk", "title"))
    return _fold(rows, "article_id", titles)


def by_offer(period: Period) -> list[ConversionRow]:
    """Trials and first payments by the offer they were bought with (none: the plain plan)."""
    from masthead.subscriptions.models import Offer

    rows = [r for r in _conversions_by("offer_id", period) if r["kind"] != "signed_up"]
    ids = {r["offer_id"] for r in rows if r["offer_id"] is not None}
    names: dict[Any, str] = dict(Offer.objects.filter(pk__in=ids).values_list("pk", "code"))
    names[None] = "(no offer: the plan)"
    return _fold(rows, "offer_id", names)


@dataclass(frozen=True)
class ChurnRow:
    kind: str
    count: int


def churn(period: Period) -> list[ChurnRow]:
    """Subscriptions ended in the period: active churn (the reader let it lapse after
    cancelling, or a trial without a card ended) versus passive (a payment failed for good);
    then cancellations and failed payments, from the daily counts (kept for good)."""
    counts = DailyCount.objects.filter(day__gte=period.start, day__lte=period.end)

    def total(name: str, reason: str | None = None) -> int:
        rows = counts.filter(name=name)
        if reason is not None:
            rows = rows.filter(reason=reason)
        return int(rows.aggregate(n=Sum("count"))["n"] or 0)

    return [
        ChurnRow("Lapsed: active (cancelled, or a trial that ended)", total("lapsed", "active")),
        ChurnRow("Lapsed: passive (payment failed for good)", total("lapsed", "passive")),
        ChurnRow("Cancellations", total("cancelled")),
        ChurnRow("Failed payments", total("payment_failed")),
        ChurnRow("Renewals", total("renewed")),
    ]


def cancel_reasons(period: Period) -> list[tuple[str, int]]:
    rows = (
        DailyCount.objects.filter(day__gte=period.start, day__lte=period.end, name="cancelled")
        .values("reason")
        .annotate(n=Sum("count"))
        .order_by("-n", "reason")
    )
    return [(r["reason"] or "(no reason given)", int(r["n"])) for r in rows]
