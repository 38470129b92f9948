from __future__ import annotations

from typing import Any

from django import template

from masthead.access import messages
from masthead.access.decision import Decision, Reason
from masthead.core import clock
from masthead.metering.policy import policy_for
from masthead.subscriptions.offers import OfferView, best_offer_for, live_offers_for

register = template.Library()


def _user_id(context: dict[str, Any]) -> int | None:
    request = context.get("request")
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


def _split_key(context: dict[str, Any]) -> str | None:
    """Whom the offers split test assigns (decision 0033)."""
    reader = getattr(context.get("request"), "reader", None)
    return reader.split_key if reader is not None else None


def _now(context: dict[str, Any]) -> Any:
    """The moment this request's access was decided (doors.open_article), else the clock."""
    return getattr(context.get("request"), "masthead_now", None) or clock.now()


@register.simple_tag(takes_context=True)
def live_offers(context: dict[str, Any]) -> list[OfferView]:
    """The offers this reader may take now (for the paywall)."""
    return live_offers_for(_user_id(context), now=_now(context), key=_split_key(context))


@register.simple_tag(takes_context=True)
def best_offer(context: dict[str, Any]) -> OfferView | None:
    """The one offer the meter message carries for this reader (chosen in the domain)."""
    return best_offer_for(_user_id(context), now=_now(context), key=_split_key(context))


@register.simple_tag(takes_context=True)
def meter_next_step(context: dict[str, Any], decision: Decision) -> str:
    """On the last free article: what happens next (empty for the other states)."""
    if decision.reason is not Reason.LAST_FREE_ARTICLE:
        return ""
    reader = getattr(context.get("request"), "reader", None)
    policy = policy_for(reader.split_key if reader is not None else None)
    return messages.after_last_free(policy, registered=_user_id(context) is not None)
