"""How each dashboard figure is computed (docs/insights.md says the same in prose).

Every figure is read from the aggregates (`ReaderDay`, `Conversion`), never from a cache.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from django.db.models import Count, F, Max, Sum
from django.utils import timezone

from masthead.core import clock
from masthead.insights.models import Conversion, DailyCount, ReaderDay, Step, Touch

PRESETS = (7, 30, 90)
LAST = "last"  # attribution: the last article read before converting takes it all
SHARED = "shared"  # each of the n articles read in the 30 days before gets 1/n
RULES = {
    LAST: "Last article read before converting",
    SHARED: "Shared by every article read in the 30 days before (1/n each)",
}


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


# --- Attribution by article, section and author, under either rule -------------------------


@dataclass(frozen=True)
class Credit:
    """What one dimension's key is credited with: exact fractions under the shared rule."""

    key: Any
    label: str
    signed_up: Fraction
    trials: Fraction
    paid: Fraction
    revenue_minor: Fraction  # first payments' plan prices, in minor units


def _credits(rule: str, period: Period) -> list[tuple[Any, str, Fraction, Fraction]]:
    """(article id or None, conversion kind, weight, revenue credited) as exact fractions, one
    entry per group of identical credits (summed in SQL). A conversion with no article read
    is credited to None under either rule."""
    window = {"at__gte": period.since, "at__lt": period.until}
    out: list[tuple[Any, str, Fraction, Fraction]] = []
    if rule == SHARED:
        touched = (
            Touch.objects.filter(**{f"conversion__{k}": v for k, v in window.items()})
            .values("article_id", "conversion__kind", "of")
            .annotate(n=Count("pk"), money=Sum("conversion__amount_minor"))
        )
        for row in touched:
            out.append(
                (
                    row["article_id"],
                    row["conversion__kind"],
                    Fraction(row["n"], row["of"]),
                    Fraction(row["money"] or 0, row["of"]),
                )
            )
        untouched = Conversion.objects.filter(**window, touches__isnull=True)
        lone = untouched.values("kind").annotate(n=Count("pk"), money=Sum("amount_minor"))
        for one in lone:
            out.append((None, one["kind"], Fraction(one["n"]), Fraction(one["money"] or 0)))
        return out
    rows = (
        Conversion.objects.filter(**window)
        .values("article_id", "kind")
        .annotate(n=Count("pk"), money=Sum("amount_minor"))
    )
    return [(r["article_id"], r["kind"], Fraction(r["n"]), Fraction(r["money"] or 0)) for r in rows]


def _fold_credits(
    credits: list[tuple[Any, str, Fraction, Fraction]],
    keys_of: dict[Any, list[tuple[Any, str]]],
) -> list[Credit]:
    """Spread each article's credit over the keys it belongs to (an article with k authors
    gives each 1/k), then total by key."""
    totals: dict[Any, dict[str, Fraction]] = defaultdict(
        lambda: {
            "signed_up": Fraction(0),
            "trials": Fraction(0),
            "paid": Fraction(0),
            "rev": Fraction(0),
        }
    )
    labels: dict[Any, str] = {}
    for article, kind, weight, money in credits:
        keys = keys_of.get(article) or [(None, "(no article read)")]
        for key, label in keys:
            labels[key] = label
            share = Fraction(1, len(keys))
            entry = totals[key]
            if kind == "signed_up":
                entry["signed_up"] += weight * share
            elif kind == "trial_started":
                entry["trials"] += weight * share
            elif kind == "first_payment":
                entry["paid"] += weight * share
                entry["rev"] += money * share
    rows = [
        Credit(key, labels[key], v["signed_up"], v["trials"], v["paid"], v["rev"])
        for key, v in totals.items()
    ]
    # Most paid first; what no article (section, author) earned last.
    return sorted(rows, key=lambda r: (r.key is None, -r.paid, -r.trials, -r.signed_up, r.label))


def _articles_of(credits: list[tuple[Any, str, Fraction, Fraction]]) -> set[int]:
    return {int(a) for a, *_ in credits if a is not None}


def credits_by_article(period: Period, rule: str = LAST) -> list[Credit]:
    from wagtail.models import Page

    credits = _credits(rule, period)
    titles = dict(Page.objects.filter(pk__in=_articles_of(credits)).values_list("pk", "title"))
    keys = {a: [(a, titles.get(a, f"#{a} (deleted)"))] for a in _articles_of(credits)}
    return _fold_credits(credits, keys)


def credits_by_section(period: Period, rule: str = LAST) -> list[Credit]:
    """An article's section is the page it sits under."""
    from wagtail.models import Page

    credits = _credits(rule, period)
    pages = list(Page.objects.filter(pk__in=_articles_of(credits)).values_list("pk", "path"))
    parents = {pk: path[: -Page.steplen] for pk, path in pages}
    sections = dict(Page.objects.filter(path__in=set(parents.values())).values_list("path", "pk"))
    titles = dict(Page.objects.filter(pk__in=sections.values()).values_list("pk", "title"))
    keys: dict[Any, list[tuple[Any, str]]] = {}
    for article, path in parents.items():
        section = sections.get(path)
        if section is not None:
            keys[article] = [(section, titles[section])]
    for article in _articles_of(credits) - set(keys):
        keys[article] = [("deleted", "(article deleted)")]
    return _fold_credits(credits, keys)


def credits_by_author(period: Period, rule: str = LAST) -> list[Credit]:
    """An article's credit is shared equally by its bylined authors."""
    from masthead.newsroom.models import ArticleByline

    credits = _credits(rule, period)
    keys: dict[Any, list[tuple[Any, str]]] = defaultdict(list)
    bylines = (
        ArticleByline.objects.filter(article_id__in=_articles_of(credits))
        .order_by("article_id", "sort_order", "pk")
        .values_list("article_id", "author_id", "author__title")
    )
    for article, author, name in bylines:
        keys[article].append((author, name))
    for article in _articles_of(credits) - set(keys):
        keys[article] = [("nobody", "(no byline)")]
    return _fold_credits(credits, dict(keys))


# --- MRR and its movements, from the subscription history and the plans ---------------------

PAYING = frozenset({"active", "past_due", "cancelled"})


def _history(until: datetime) -> dict[int, list[tuple[datetime, int, str, str, dict[str, Any]]]]:
    """Each reader's subscription history rows before `until`, in time order:
    (at, subscription id, kind, status after, data)."""
    from masthead.subscriptions.models import SubscriptionEvent

    rows = (
        SubscriptionEvent.objects.filter(at__lt=until)
        .order_by("at", "pk")
        .values_list("subscription__user_id", "at", "subscription_id", "kind", "to_status", "data")
    )
    readers: dict[int, list[tuple[datetime, int, str, str, dict[str, Any]]]] = defaultdict(list)
    for user, at, sub, kind, to_status, data in rows.iterator():
        readers[user].append((at, sub, kind, to_status, data or {}))
    return readers


@dataclass(frozen=True)
class MrrMovement:
    name: str
    amount_minor: int
    subscribers: int


@dataclass(frozen=True)
class Mrr:
    currency: str
    start_minor: int
    end_minor: int
    movements: list[MrrMovement]  # new, expansion, reactivation, contraction, churned


MOVEMENTS = ("New", "Expansion", "Reactivation", "Contraction", "Churned")


def _minor(twelfths: int) -> int:
    return round(Fraction(twelfths, 12))


def mrr(period: Period) -> list[Mrr]:
    """MRR at the period's start and end, and the movements between, per currency.

    A subscription's MRR at a moment: its plan's price (a yearly plan's price / 12) while it
    is active, past due or cancelled-but-running and has been paid for at least once; 0 in a
    trial, complimentary, or expired. A reader's MRR is the sum over their subscriptions.
    Each history row in the period that changes a reader's MRR is one movement: from 0, *new*
    (never paid before) or *reactivation* (paid before); to 0, *churned*; up, *expansion*;
    down, *contraction*. So start + new + expansion + reactivation - contraction - churned =
    end, exactly in twelfths of a minor unit; each figure is then rounded to the minor unit."""
    from masthead.subscriptions.models import Plan, Subscription

    plans = {
        pk: (price * (12 if interval == "month" else 1), currency)
        for pk, price, interval, currency in Plan.objects.values_list(
            "pk", "price_minor", "interval", "currency"
        )
    }
    slugs = dict(Plan.objects.values_list("slug", "pk"))
    current_plan = dict(Subscription.objects.values_list("pk", "plan_id"))
    sums: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(MOVEMENTS, 0))
    movers: dict[str, dict[str, set[int]]] = defaultdict(lambda: {n: set() for n in MOVEMENTS})
    start: dict[str, int] = defaultdict(int)
    end: dict[str, int] = defaultdict(int)
    for user, rows in _history(period.until).items():
        # per subscription: (status, plan id, paid for at least once)
        subs: dict[int, tuple[str, int, bool]] = {}
        ever_paid = False
        before: dict[str, int] = defaultdict(int)
        counted_start = False
        for at, sub, kind, to_status, data in rows:
            if at >= period.since and not counted_start:
                for currency, value in before.items():
                    start[currency] += value
                counted_start = True
            _, plan, paid = subs.get(sub, ("", current_plan.get(sub, 0), False))
            if "plan_id" in data:
                plan = data["plan_id"]
            elif kind == "plan_changed" and data.get("plan") in slugs:
                plan = slugs[data["plan"]]
            subs[sub] = (to_status, plan, paid or to_status == "active")
            after: dict[str, int] = defaultdict(int)
            for status, plan_id, was_paid in subs.values():
                value, currency = plans.get(plan_id, (0, ""))
                if status in PAYING and was_paid and currency:
                    after[currency] += value
            if at >= period.since:
                for currency in set(before) | set(after):
                    old, new = before[currency], after[currency]
                    if old == new:
                        continue
                    if old == 0:
                        name = "Reactivation" if ever_paid else "New"
                    elif new == 0:
                        name = "Churned"
                    else:
                        name = "Expansion" if new > old else "Contraction"
                    sums[currency][name] += abs(new - old)
                    movers[currency][name].add(user)
            ever_paid = ever_paid or any(paid for _, _, paid in subs.values())
            before = after
        if not counted_start:
            for currency, value in before.items():
                start[currency] += value
        for currency, value in before.items():
            end[currency] += value
    return [
        Mrr(
            currency,
            _minor(start[currency]),
            _minor(end[currency]),
            [
                MrrMovement(n, _minor(sums[currency][n]), len(movers[currency][n]))
                for n in MOVEMENTS
            ],
        )
        for currency in sorted(set(start) | set(end) | set(sums))
        if currency
    ]


# --- Trial conversion and revenue per thousand visitors --------------------------------------


@dataclass(frozen=True)
class TrialConversion:
    started: int
    paid: int

    @property
    def rate(self) -> float | None:
        return self.paid / self.started if self.started else None


def trial_conversion(period: Period) -> TrialConversion:
    """Trials started in the period (a `trial_started` history row, or the provider's copy
    created as trialing), and how many of those readers have paid since the trial began: the
    trial renewed into the plan, or the reader subscribed afterwards (a trial without a card
    ends, and its reader may then subscribe)."""
    from django.db.models import Q

    from masthead.subscriptions.models import SubscriptionEvent

    trials = (
        SubscriptionEvent.objects.filter(at__gte=period.since, at__lt=period.until)
        .filter(
            Q(kind="trial_started") | Q(kind="provider_sync", from_status="", to_status="trialing")
        )
        .values_list("subscription_id", "subscription__user_id", "at")
    )
    started = {sub: (user, at) for sub, user, at in trials}
    first_trial: dict[int, datetime] = {}
    for user, at in started.values():
        first_trial[user] = min(at, first_trial.get(user, at))
    paid_at = (
        SubscriptionEvent.objects.filter(
            subscription__user_id__in=list(first_trial), to_status="active"
        )
        .values("subscription__user_id")
        .annotate(last=Max("at"))
    )
    paid_users = {
        r["subscription__user_id"]
        for r in paid_at
        if r["last"] >= first_trial[r["subscription__user_id"]]
    }
    paid = sum(1 for user, _ in started.values() if user in paid_users)
    return TrialConversion(len(started), paid)


@dataclass(frozen=True)
class RevenuePerVisitors:
    currency: str
    revenue_minor: int  # the ledger's net: charges less credits and refunds
    visitors: int
    per_thousand_minor: int | None


def revenue_per_thousand(period: Period, visitors: int) -> list[RevenuePerVisitors]:
    """The period's net revenue in the ledger ÷ the funnel's visitors x 1000, per currency."""
    from masthead.billing.models import LedgerEntry

    rows = (
        LedgerEntry.objects.filter(at__gte=period.since, at__lt=period.until)
        .values("currency")
        .annotate(total=Sum("amount_minor"))
        .order_by("currency")
    )
    return [
        RevenuePerVisitors(
            r["currency"],
            int(r["total"] or 0),
            visitors,
            round(Fraction(int(r["total"] or 0) * 1000, visitors)) if visitors else None,
        )
        for r in rows
    ]
