"""The insights dashboards in the Wagtail admin, behind `insights.view_insights`.

Every chart is an SVG drawn here on the server (a title, a description and the table it is
drawn from right below it); every table is also a CSV download (`?csv=<table>`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from masthead.core import cdn, clock
from masthead.insights import figures

PERMISSION = "insights.view_insights"
CSV_TABLES = ("funnel", "articles", "offers", "churn", "cancel_reasons")


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


def _csv(
    name: str, header: list[str], rows: list[list[Any]], period: figures.Period
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="insights-{name}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"'
    )
    writer = csv.writer(response, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return response


def _share(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _money(minor: int) -> str:
    """Revenue as a plain decimal (a spreadsheet sums it), in the plans' currency."""
    return f"{minor / 100:.2f}"


def funnel_tables(
    period: figures.Period, funnel: list[figures.FunnelRow]
) -> dict[str, tuple[list[str], list[list[Any]]]]:
    articles = figures.by_article(period)
    offers = figures.by_offer(period)
    return {
        "funnel": (
            ["step", "readers", "of previous step", "lost since previous step"],
            [[r.step, r.readers, _share(r.of_previous), r.drop_off] for r in funnel],
        ),
        "articles": (
            ["article", "sign-ups", "trials", "first payments", "first-payment revenue"],
            [[r.label, r.signed_up, r.trials, r.paid, _money(r.revenue_minor)] for r in articles],
        ),
        "offers": (
            ["offer", "trials", "first payments", "first-payment revenue"],
            [[r.label, r.trials, r.paid, _money(r.revenue_minor)] for r in offers],
        ),
        "churn": (["what", "subscriptions"], [[r.kind, r.count] for r in figures.churn(period)]),
        "cancel_reasons": (
            ["reason", "cancellations"],
            [[reason, n] for reason, n in figures.cancel_reasons(period)],
        ),
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    return cdn.mark_private(_dashboard(request))


def _dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return forbidden(request)
    form = PeriodForm(request.GET or {"days": "30"})
    today = timezone.localdate(clock.now())
    period = form.period(today)
    funnel = figures.funnel(period)
    tables = funnel_tables(period, funnel)
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
        return _csv(wanted, header, rows, period)
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
        },
    )


def operations(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return cdn.mark_private(forbidden(request))
    from masthead.insights.operations import parts

    return cdn.mark_private(render(request, "insights/operations.html", {"parts": parts()}))
