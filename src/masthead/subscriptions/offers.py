"""Live offers a reader may take: what the offers page and the paywall show.

Offers the reader is eligible for come first; when none is (a lapsed subscriber, say), the
plans themselves are offered, so a paywall always has somewhere to go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import dateformat, timezone, translation
from django.utils.translation import gettext as _

from masthead.core import generation
from masthead.experiments import running


@dataclass(frozen=True)
class OfferView:
    code: str
    headline: str  # "Try 1 month for $0.99"
    ends_text: str  # "Offer ends October 31st" or ""
    url: str  # checkout URL for this offer
    then_text: str = ""  # "then $15 a month"
    kind: str = "intro"  # intro, trial, plan
    price_text: str = ""  # what the first period costs: "$0.99", "Free"
    term_text: str = ""  # how long that price lasts: "for 1 month", "a month"
    first_charge_minor: int = 0  # in the plan's currency; ranks offers for the meter message


def ends_text(ends_at: datetime | None) -> str:
    """ "Offer ends October 31st": the last day it is live, in the site's time zone."""
    if ends_at is None:
        return ""
    last_day = timezone.localtime(ends_at - timedelta(microseconds=1)).date()
    if translation.get_language() in (None, "en", "en-us", "en-gb"):
        day = dateformat.format(last_day, "F jS")
    else:
        day = dateformat.format(last_day, "j F")
    return _("Offer ends %(day)s") % {"day": day}


def _term(offer) -> str:  # type: ignore[no-untyped-def]
    from masthead.subscriptions.models import Interval, OfferKind

    if offer.kind == OfferKind.TRIAL:
        return _("for %(days)s days") % {"days": offer.trial_days}
    months = offer.intro_periods * (1 if offer.plan.interval == Interval.MONTH else 12)
    if months % 12 == 0:
        years = months // 12
        return _("for 1 year") if years == 1 else _("for %(n)s years") % {"n": years}
    return _("for 1 month") if months == 1 else _("for %(n)s months") % {"n": months}


def view_of_offer(offer) -> OfferView:  # type: ignore[no-untyped-def]
    from masthead.core.money import format_money
    from masthead.subscriptions.models import OfferKind

    trial = offer.kind == OfferKind.TRIAL
    first = 0 if trial else offer.intro_price_minor
    return OfferView(
        code=offer.code,
        headline=offer.headline,
        ends_text=ends_text(offer.ends_at),
        url=reverse("billing:checkout_offer", args=[offer.code]),
        then_text=offer.then_text,
        kind=offer.kind,
        price_text=_("Free") if trial else format_money(first, offer.plan.currency),
        term_text=_term(offer),
        first_charge_minor=first,
    )


def view_of_plan(plan) -> OfferView:  # type: ignore[no-untyped-def]
    return OfferView(
        code=plan.slug,
        headline=_("Subscribe for %(price)s") % {"price": plan.price_text},
        ends_text="",
        url=reverse("billing:checkout_plan", args=[plan.slug]),
        kind="plan",
        price_text=plan.price_text,
        term_text=_("until you cancel"),
        first_charge_minor=plan.price_minor,
    )


# The catalogue (listed offers and plans) is read on every metered article (the meter
# message's offer), so each process keeps it stamped with the site generation
# (`masthead.core.generation`), like the meter policy and the campaigns: saving an offer or a
# plan bumps the generation, so every process reloads it within a second. Whether an offer is
# live is judged against the clock on every call. When the generation cannot be read (the
# shared store is down) the catalogue is read from the database each time.
_KEPT = "subscriptions.catalogue"


def _load_catalogue() -> tuple[list[Any], list[Any]]:
    from masthead.subscriptions.models import Offer, Plan

    offers = list(Offer.objects.filter(link_only=False).select_related("plan"))
    return offers, list(Plan.objects.all())


def _listed(now: datetime) -> tuple[list[Any], list[Any]]:
    return generation.kept(_KEPT, _load_catalogue)


def forget_catalogue(**_: object) -> None:
    generation.drop(_KEPT)


def _in_order(listed: list[Any], codes: tuple[str, ...] | None) -> list[Any]:
    """The listed offers a split test's arm (or its applied winner) names, in its order; every
    listed offer when none is in force (decision 0033)."""
    if codes is None:
        return listed
    by_code = {offer.code: offer for offer in listed}
    return [by_code[code] for code in codes if code in by_code]


def live_offers_for(
    user_id: int | None, *, now: datetime, key: str | None = None
) -> list[OfferView]:
    """The offers this reader may take now, in the order the paywall lists them. `key`: whom
    an offers split test assigns (`ReaderIdentity.split_key`)."""
    from masthead.subscriptions.actions import offer_refusal

    listed, plans = _listed(now)
    offers = [
        view_of_offer(offer)
        for offer in _in_order(listed, running.offer_codes_for(key))
        if offer_refusal(user_id, offer, now=now) is None
    ]
    if offers:
        return offers
    return [view_of_plan(plan) for plan in plans if plan.is_live(now)]


def best_offer_for(
    user_id: int | None, *, now: datetime, key: str | None = None
) -> OfferView | None:
    """The one offer the meter message puts beside the count: the first of a split test's
    order when one is in force, else the cheapest paid introduction this reader may take (it
    is what the page Masthead is modelled on shows), else the shortest-priced trial, else the
    cheapest plan."""
    offers = live_offers_for(user_id, now=now, key=key)
    if not offers:
        return None
    if running.offer_codes_for(key) is not None:
        return offers[0]
    order = {"intro": 0, "trial": 1}
    return min(offers, key=lambda o: (order.get(o.kind, 2), o.first_charge_minor))


@dataclass(frozen=True)
class CheckoutTerms:
    """What checkout states: today's charge, when the full price starts, how to cancel."""

    today: str  # "$0.99"
    full_price: str  # "$15 a month"
    full_price_from: datetime | None  # None: the full price is today's charge
    how_to_cancel: str


def checkout_terms(plan, offer, *, now: datetime) -> CheckoutTerms:  # type: ignore[no-untyped-def]
    from masthead.core.money import format_money
    from masthead.subscriptions.actions import add_months
    from masthead.subscriptions.models import Interval, OfferKind

    starts: datetime | None = None
    today = plan.price_minor
    if offer is not None and offer.kind == OfferKind.TRIAL:
        today, starts = 0, now + timedelta(days=offer.trial_days)
    elif offer is not None:
        months = offer.intro_periods * (1 if plan.interval == Interval.MONTH else 12)
        today, starts = offer.intro_price_minor, add_months(now, months)
    cancel = _(
        "Cancel any time from your account page (Your account, then Subscription); "
        "you keep access until the end of the period you paid for."
    )
    if starts is not None:
        cancel = _(
            "Cancel any time before %(day)s from your account page and you will not be charged "
            "%(price)s."
        ) % {
            "day": dateformat.format(timezone.localtime(starts), "F j, Y"),
            "price": plan.price_text,
        }
    return CheckoutTerms(
        today=format_money(today, plan.currency),
        full_price=plan.price_text,
        full_price_from=starts,
        how_to_cancel=cancel,
    )
