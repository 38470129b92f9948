"""What each variant of a split test did (docs/experiments.md, decision 0033).

- **Exposed readers** of a variant: the readers the funnel saw meet the meter or the paywall
  (`ReaderDay` with either step) on a day the experiment ran, put in the variant the
  experiment's hash puts their key in (`masthead.experiments.assignment`, the same function
  `decide` uses). A reader who signed up during the experiment is counted once, under the
  anonymous key they were exposed with (`ReaderAlias`).
- **Converted**: exposed readers who started a trial or paid for the first time (a
  `Conversion`) between the experiment's start and its stop (or now).
- **Interval**: the 95% Wilson score interval of each rate; the difference from the control
  with Newcombe's hybrid score interval (his method 10, built from the two Wilson intervals).
  A difference is significant when its interval leaves out 0; until then the dashboard says
  "not yet significant".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F
from django.utils import timezone

from masthead.core import clock
from masthead.experiments.assignment import pick
from masthead.experiments.models import Experiment, Variant
from masthead.insights.models import Conversion, ReaderAlias, ReaderDay, Step

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal distribution
CONVERTING = ("trial_started", "first_payment")


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of successes/trials; (0, 1) when nobody was counted."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe(a: tuple[int, int], b: tuple[int, int], z: float = Z95) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p_a - p_b, from (successes, trials) of each."""
    (xa, na), (xb, nb) = a, b
    pa = xa / na if na else 0.0
    pb = xb / nb if nb else 0.0
    la, ua = wilson(xa, na, z)
    lb, ub = wilson(xb, nb, z)
    difference = pa - pb
    return (
        difference - math.sqrt((pa - la) ** 2 + (ub - pb) ** 2),
        difference + math.sqrt((ua - pa) ** 2 + (pb - lb) ** 2),
    )


@dataclass(frozen=True)
class Arm:
    variant: Variant
    exposed: int
    converted: int

    @property
    def rate(self) -> float | None:
        return self.converted / self.exposed if self.exposed else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.converted, self.exposed)


@dataclass(frozen=True)
class Comparison:
    arm: Arm
    difference: float | None  # rate minus the control's
    interval: tuple[float, float] | None
    significant: bool

    @property
    def verdict(self) -> str:
        if self.difference is None or self.interval is None:
            return "no readers yet"
        if not self.significant:
            return "not yet significant"
        return "better than the control" if self.difference > 0 else "worse than the control"


@dataclass(frozen=True)
class Result:
    experiment: Experiment
    since: datetime | None
    until: datetime
    arms: list[Arm]
    comparisons: list[Comparison]  # every variant but the control, against it

    @property
    def control(self) -> Arm:
        return self.arms[0]

    @property
    def any_significant(self) -> bool:
        return any(c.significant for c in self.comparisons)


def _exposed_alias(accounts: set[str], exposed: set[str]) -> dict[str, str]:
    """Each of `accounts` whose anonymous past (`ReaderAlias`) was exposed: that anonymous key
    (the first, if several), under which the reader is counted once."""
    found: dict[str, str] = {}
    aliases = ReaderAlias.objects.filter(account__in=accounts, anonymous__in=exposed)
    for alias in aliases.order_by("anonymous"):
        found.setdefault(alias.account, alias.anonymous)
    return found


def result(experiment: Experiment, *, now: datetime | None = None) -> Result:
    now = now or clock.now()
    variants = list(experiment.variants.all())
    since = experiment.started_at
    until = experiment.stopped_at or now
    if since is None:
        arms = [Arm(v, 0, 0) for v in variants]
        return Result(experiment, None, until, arms, _compare(arms))
    met = Step.MET_METER | Step.PAYWALL
    days = (timezone.localdate(since), timezone.localdate(until))
    exposed = set(
        ReaderDay.objects.filter(day__range=days)
        .annotate(met=F("steps").bitand(int(met)))
        .filter(met__gt=0)
        .values_list("reader", flat=True)
        .distinct()
    )
    converting = set(
        Conversion.objects.filter(kind__in=CONVERTING, at__gte=since, at__lt=until).values_list(
            "reader", flat=True
        )
    )
    accounts = {k for k in exposed | converting if k.startswith("u:")}
    unit_of = _exposed_alias(accounts, exposed)
    units = {unit_of.get(k, k) for k in exposed}
    converted = {unit_of.get(r, r) for r in converting} & units
    exposed_by: dict[int, int] = defaultdict(int)
    converted_by: dict[int, int] = defaultdict(int)
    for unit in units:
        variant = pick(experiment.salt, unit, variants)
        exposed_by[variant.pk] += 1
        if unit in converted:
            converted_by[variant.pk] += 1
    arms = [Arm(v, exposed_by[v.pk], converted_by[v.pk]) for v in variants]
    return Result(experiment, since, until, arms, _compare(arms))


def _compare(arms: list[Arm]) -> list[Comparison]:
    control = arms[0]
    out = []
    for arm in arms[1:]:
        if not arm.exposed or not control.exposed:
            out.append(Comparison(arm, None, None, False))
            continue
        low, high = newcombe((arm.converted, arm.exposed), (control.converted, control.exposed))
        difference = (arm.rate or 0.0) - (control.rate or 0.0)
        out.append(Comparison(arm, difference, (low, high), low > 0 or high < 0))
    return out
