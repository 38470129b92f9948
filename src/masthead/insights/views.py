"""The insights dashboards in the Wagtail admin, behind `insights.view_insights`.

Every chart is an SVG drawn here on the server (a title, a description and the table it is
drawn from right below it); every table is also a CSV download (`?csv=<table>`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from masthead.core import cdn, clock
from masthead.insights import figures

PERMISSION = "insights.view_insights"
CSV_TABLES = (
    "funnel",
    "articles",
    "sections",
    "authors",
    "offers",
    "mrr",
    "trials",
    "revenue_per_visitors",
    "churn",
    "cancel_reasons",
)


class PeriodForm(forms.Form):
    days = forms.TypedChoiceField(
        label="Period",
        choices=[(str(d), f"Last {d} days") for d in figures.PRESETS] + [("", "From/to dates")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))
    rule = forms.ChoiceField(
        label="Attribute conversions to",
        choices=list(figures.RULES.items()),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("days") is None and (data.get("start") or data.get("end")):
            start, end = data.get("start"), data.get("end")
            if not (start and end):
                raise forms.ValidationError("Give both a from and a to date, or choose a period.")
            if start > end:
                raise forms.ValidationError("The from date must not be after the to date.")
            if (end - start).days > 3660:
                raise forms.ValidationError("Choose a period of at most ten years.")
        return data

    def period(self, today: date) -> figures.Period:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("days") is None and data.get("start") and data.get("end"):
            return figures.Period(data["start"], data["end"])
        return figures.last_days(data.get("days") or 30, today)

    def chosen_rule(self) -> str:
        chosen = self.data.get("rule")  # kept even when the dates are wrong
        return chosen if chosen in figures.RULES else figures.LAST


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "insights/forbidden.html", {}, status=403)


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str
    y: int
    width: float

    @property
    def text_y(self) -> int:
        return self.y + 19

    @property
    def text_x(self) -> float:
        return round(150 + self.width + 8, 1)


def bar_chart(rows: list[tuple[str, int, str]]) -> dict[str, Any]:
    """Horizontal bars, scaled to the largest value, with room for labels."""
    top = max((v for _, v, _ in rows), default=0) or 1
    bars = [
        Bar(label=label, value=value, text=text, y=10 + i * 34, width=round(440 * value / top, 1))
        for i, (label, value, text) in enumerate(rows)
    ]
    return {"bars": bars, "height": 20 + 34 * len(rows)}


def csv_download(filename: str, header: list[str], rows: list[list[Any]]) -> HttpResponse:
    """A table as a CSV attachment named `filename`."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _share(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _money(minor: int | Fraction) -> str:
    """Revenue as a plain decimal (a spreadsheet sums it), in the plans' currency: integer
    arithmetic on minor units, a fraction of a minor unit rounded half to even."""
    whole = round(minor)
    sign = "-" if whole < 0 else ""
    return f"{sign}{abs(whole) // 100}.{abs(whole) % 100:02d}"


def _count(value: Fraction | int) -> str:
    """A count; a shared credit (a fraction) to two decimals."""
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = round(value * 100)
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _credit_rows(rows: list[figures.Credit]) -> list[list[Any]]:
    return [
        [r.label, _count(r.signed_up), _count(r.trials), _count(r.paid), _money(r.revenue_minor)]
        for r in rows
    ]


CREDIT_HEADER = ["sign-ups", "trials", "first payments", "first-payment revenue"]


def funnel_tables(
    period: figures.Period, funnel: list[figures.FunnelRow], rule: str = figures.LAST
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    offers = figures.by_offer(period)
    trials = figures.trial_conversion(period)
    visitors = funnel[0].readers if funnel else 0
    mrr_rows: list[list[Any]] = []
    for m in figures.mrr(period):
        mrr_rows.append(
            [f"MRR at {period.start:%Y-%m-%d} (start)", m.currency, _money(m.start_minor), ""]
        )
        for move in m.movements:
            sign = "-" if move.name in ("Contraction", "Churned") else "+"
            sign = sign if move.amount_minor else ""
            mrr_rows.append(
                [move.name, m.currency, f"{sign}{_money(move.amount_minor)}", move.subscribers]
            )
        mrr_rows.append(
            [f"MRR at {period.end:%Y-%m-%d} (end)", m.currency, _money(m.end_minor), ""]
        )
    return {
        "funnel": (
            ["step", "readers", "of previous step", "lost since previous step"],
            [[r.step, r.readers, _share(r.of_previous), r.drop_off] for r in funnel],
        ),
        "articles": (
            ["article", *CREDIT_HEADER],
            _credit_rows(figures.credits_by_article(period, rule)),
        ),
        "sections": (
            ["section", *CREDIT_HEADER],
            _credit_rows(figures.credits_by_section(period, rule)),
        ),
        "authors": (
            ["author", *CREDIT_HEADER],
            _credit_rows(figures.credits_by_author(period, rule)),
        ),
        "offers": (
            ["offer", "trials", "first payments", "first-payment revenue"],
            [[r.label, r.trials, r.paid, _money(r.revenue_minor)] for r in offers],
        ),
        "mrr": (["what", "currency", "MRR", "subscribers"], mrr_rows),
        "trials": (
            ["trials started", "became paid", "trial conversion"],
            [[trials.started, trials.paid, _share(trials.rate)]] if trials.started else [],
        ),
        "revenue_per_visitors": (
            ["currency", "net revenue (ledger)", "visitors", "revenue per thousand visitors"],
            [
                [
                    r.currency,
                    _money(r.revenue_minor),
                    r.visitors,
                    "" if r.per_thousand_minor is None else _money(r.per_thousand_minor),
                ]
                for r in figures.revenue_per_thousand(period, visitors)
            ],
        ),
        "churn": (["what", "subscriptions"], [[r.kind, r.count] for r in figures.churn(period)]),
        "cancel_reasons": (
            ["reason", "cancellations"],
            [[reason, n] for reason, n in figures.cancel_reasons(period)],
        ),
    }


def mrr_chart(period: figures.Period) -> list[dict[str, Any]]:
    """One bar chart per currency: the five movements, each bar its size."""
    from masthead.core.money import format_money

    charts = []
    for m in figures.mrr(period):
        chart = bar_chart(
            [
                (
                    move.name,
                    move.amount_minor,
                    ("\N{MINUS SIGN}" if move.name in ("Contraction", "Churned") else "+")
                    + format_money(move.amount_minor, m.currency),
                )
                for move in m.movements
            ]
        )
        chart["currency"] = m.currency
        chart["start"] = format_money(m.start_minor, m.currency)
        chart["end"] = format_money(m.end_minor, m.currency)
        chart["summary"] = ", ".join(
            f"{move.name} {format_money(move.amount_minor, m.currency)}" for move in m.movements
        )
        charts.append(chart)
    return charts


def dashboard(request: HttpRequest) -> HttpResponse:
    return cdn.mark_private(_dashboard(request))


def _dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return forbidden(request)
    data = request.GET.copy() if request.GET else {"days": "30"}
    if data.get("rule") not in figures.RULES:
        data.pop("rule", None)  # an unknown rule falls back to the last article, quietly
    form = PeriodForm(data)
    today = timezone.localdate(clock.now())
    period = form.period(today)
    funnel = figures.funnel(period)
    rule = form.chosen_rule()
    tables = funnel_tables(period, funnel, rule)
    wanted = request.GET.get("csv")
    if wanted is not None:
        if wanted not in CSV_TABLES:
            return render(
                request,
                "insights/forbidden.html",
                {"message": "There is no such table to export."},
                status=404,
            )
        header, rows = tables[wanted]
        name = f"insights-{wanted}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
        return csv_download(name, header, rows)
    chart = bar_chart(
        [
            (
                r.step,
                r.readers,
                f"{r.readers} ({_share(r.of_previous)})"
                if r.of_previous is not None
                else f"{r.readers}",
            )
            for r in funnel
        ]
    )
    query = request.GET.copy()
    query.pop("csv", None)
    return render(
        request,
        "insights/dashboard.html",
        {
            "form": form,
            "period": period,
            "chart": chart,
            "tables": tables,
            "query": query.urlencode(),
            "funnel_summary": ", ".join(f"{r.step} {r.readers}" for r in funnel),
            "rule": rule,
            "rule_label": figures.RULES[rule],
            "shared": rule == figures.SHARED,
            "mrr_charts": mrr_chart(period),
        },
    )


def operations(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return cdn.mark_private(forbidden(request))
    from masthead.insights.operations import parts

    return cdn.mark_private(render(request, "insights/operations.html", {"parts": parts()}))
