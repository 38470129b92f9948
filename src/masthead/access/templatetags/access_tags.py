from __future__ import annotations

from typing import Any

from django import template

from masthead.core import clock
from masthead.subscriptions.offers import OfferView, live_offers_for

register = template.Library()


@register.simple_tag(takes_context=True)
def live_offers(context: dict[str, Any]) -> list[OfferView]:
    """The offers this reader may take now (for the paywall)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return live_offers_for(user_id, now=clock.now())
