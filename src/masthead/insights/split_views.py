"""The split-test pages in the Wagtail admin (docs/experiments.md, decision 0033).

Seeing them takes `insights.view_insights`; creating, starting, stopping an experiment and
applying its winner also take `experiments.change_experiment`. Every change is a POST to an
action of `masthead.experiments.actions`; a refused one is said on the page, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from masthead.core import cdn, clock
from masthead.experiments import actions
from masthead.experiments.models import Experiment, Kind, State
from masthead.insights import splits
from masthead.insights.views import PERMISSION, csv_download, forbidden
from masthead.subscriptions.models import Offer

CHANGE = "experiments.change_experiment"

VARIANTS_HELP = (
    "One variant per line: name | share in % | value. The first line is the control (its value "
    "may be empty: the policy as it is). Meter allowance: one number for everyone, or "
    "'signed out / signed in' (e.g. 3/5). Preview length: a number of blocks. Offers: offer "
    "codes in the order the paywall lists them, separated by commas (none: every listed offer)."
)


def parse_variants(kind: str, text: str) -> list[actions.VariantSpec]:
    """The variants typed in the form; a ValidationError naming the line that is wrong."""
    specs = []
    lines = [line for line in text.splitlines() if line.strip()]
    for number, line in enumerate(lines, start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) not in (2, 3):
            raise ValidationError(f"Line {number}: write name | share | value.")
        name, share = parts[0], parts[1].rstrip("%").strip()
        value = parts[2] if len(parts) == 3 else ""
        if not share.isdigit():
            raise ValidationError(f"Line {number}: the share is a whole number of percent.")
        spec = actions.VariantSpec(name=name, weight=int(share))
        try:
            if kind == Kind.ALLOWANCE and value:
                signed_out, _, signed_in = value.partition("/")
                spec.anonymous_allowance = _number(signed_out, 100)
                spec.registered_allowance = _number(signed_in or signed_out, 100)
            elif kind == Kind.PREVIEW and value:
                spec.preview_blocks = _number(value, 20)
            elif kind == Kind.OFFERS:
                spec.offer_codes = [c.strip() for c in value.split(",") if c.strip()]
        except ValueError as exc:
            raise ValidationError(f"Line {number}: {exc}") from exc
        specs.append(spec)
    return specs


def _number(text: str, highest: int) -> int:
    text = text.strip()
    if not text.isdigit() or int(text) > highest:
        raise ValueError(f"“{text}” is not a whole number from 0 to {highest}.")
    return int(text)


class ExperimentForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(label="What it varies", choices=Kind.choices)
    variants = forms.CharField(
        widget=forms.Textarea({"rows": 5, "cols": 60}), help_text=VARIANTS_HELP
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "kind" in data and "variants" in data:
            try:
                specs = parse_variants(data["kind"], data["variants"])
                known = frozenset(Offer.objects.values_list("code", flat=True))
                actions.check_variants(data["kind"], specs, known)
            except ValidationError as exc:
                self.add_error("variants", exc)
            else:
                data["specs"] = specs
        return data


def _private(response: HttpResponse) -> HttpResponse:
    return cdn.mark_private(response)


def experiments(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return _private(forbidden(request))
    can_change = request.user.has_perm(CHANGE)
    form = ExperimentForm()
    status = 200
    if request.method == "POST":
        if not can_change:
            return _private(forbidden(request))
        form = ExperimentForm(request.POST)
        if form.is_valid():
            try:
                experiment = actions.create_experiment(
                    form.cleaned_data["name"],
                    form.cleaned_data["kind"],
                    form.cleaned_data["specs"],
                    now=clock.now(),
                    actor=request.user,
                    known_offers=frozenset(Offer.objects.values_list("code", flat=True)),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("insights_experiment", experiment.pk)
        status = 400
    listed = [(e, e.variants.all()) for e in Experiment.objects.prefetch_related("variants")]
    return _private(
        render(
            request,
            "insights/experiments.html",
            {"listed": listed, "form": form, "can_change": can_change},
            status=status,
        )
    )


def experiment(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(PERMISSION):
        return _private(forbidden(request))
    chosen = get_object_or_404(Experiment, pk=pk)
    found = splits.result(chosen)
    rows = result_rows(found)
    if request.GET.get("csv") == "variants":
        return _private(csv_download(f"experiment-{chosen.pk}-variants.csv", HEADER, rows))
    chart = interval_chart(found)
    return _private(
        render(
            request,
            "insights/experiment.html",
            {
                "experiment": chosen,
                "result": found,
                "table": (HEADER, rows),
                "chart": chart,
                "summary": "; ".join(f"{r[0]} {r[3]}" for r in rows),
                "can_change": request.user.has_perm(CHANGE),
                "changes": chosen.changes.select_related("actor"),
                "error": request.GET.get("refused", "")[:300],
                "State": State,
            },
        )
    )


@dataclass(frozen=True)
class IntervalBar:
    label: str
    text: str
    y: int
    width: float  # the rate
    low_x: float  # the interval's ends
    high_x: float

    @property
    def text_y(self) -> int:
        return self.y + 19

    @property
    def whisker_y(self) -> int:
        return self.y + 13

    @property
    def text_x(self) -> float:
        return round(max(150 + self.width, self.high_x) + 8, 1)


def interval_chart(found: splits.Result) -> dict[str, Any]:
    """A bar per variant for its conversion rate, with a line across its 95% interval, on a
    scale to the highest interval end."""
    top = max((a.interval[1] for a in found.arms if a.exposed), default=0.0) or 1.0
    bars = []
    for i, arm in enumerate(found.arms):
        rate = arm.rate or 0.0
        low, high = arm.interval if arm.exposed else (0.0, 0.0)
        bars.append(
            IntervalBar(
                label=arm.variant.name[:18],
                text=_percent(arm.rate, arm.exposed),
                y=10 + i * 34,
                width=round(440 * rate / top, 1),
                low_x=round(150 + 440 * low / top, 1),
                high_x=round(150 + 440 * high / top, 1),
            )
        )
    return {"bars": bars, "height": 20 + 34 * len(bars)}


HEADER = [
    "variant",
    "value",
    "share",
    "converted",
    "exposed readers",
    "conversion rate",
    "95% interval",
    "difference from the control",
    "verdict",
]


def _percent(rate: float | None, exposed: int) -> str:
    return "no readers" if rate is None or not exposed else f"{rate * 100:.2f}%"


def _interval(low: float, high: float) -> str:
    return f"{low * 100:.2f}% to {high * 100:.2f}%"


def result_rows(found: splits.Result) -> list[list[Any]]:
    by_variant = {c.arm.variant.pk: c for c in found.comparisons}
    rows = []
    for arm in found.arms:
        comparison = by_variant.get(arm.variant.pk)
        if comparison is None:
            difference, verdict = "", "control"
        elif comparison.difference is None or comparison.interval is None:
            difference, verdict = "", comparison.verdict
        else:
            difference = (
                f"{comparison.difference * 100:+.2f} points "
                f"({_interval(*comparison.interval).replace('% to', ' to')} points)"
            )
            verdict = comparison.verdict
        rows.append(
            [
                arm.variant.name,
                arm.variant.describe(),
                f"{arm.variant.weight}%",
                arm.converted,
                arm.exposed,
                _percent(arm.rate, arm.exposed),
                _interval(*arm.interval) if arm.exposed else "",
                difference,
                verdict,
            ]
        )
    return rows


@require_POST
def change(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    if not (request.user.has_perm(PERMISSION) and request.user.has_perm(CHANGE)):
        return _private(forbidden(request))
    chosen = get_object_or_404(Experiment, pk=pk)
    now = clock.now()
    try:
        if what == "start":
            actions.start(chosen, now=now, actor=request.user)
        elif what == "stop":
            actions.stop(chosen, now=now, actor=request.user)
        elif what == "apply":
            variant = chosen.variants.filter(pk=request.POST.get("variant") or 0).first()
            if variant is None:
                raise ValidationError("Choose the variant to apply.")
            actions.apply_winner(chosen, variant, now=now, actor=request.user)
        else:
            raise ValidationError("There is no such change.")
    except ValidationError as exc:
        url = reverse("insights_experiment", args=[chosen.pk])
        return _private(redirect(f"{url}?{_refused(exc)}"))
    return _private(redirect("insights_experiment", chosen.pk))


def _refused(exc: ValidationError) -> str:
    from urllib.parse import urlencode

    return urlencode({"refused": " ".join(exc.messages)})
