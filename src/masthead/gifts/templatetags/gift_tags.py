"""The "Gift this article" box on an article page, for readers who may give."""

from __future__ import annotations

from typing import Any

from django import template

from masthead.core import clock
from masthead.gifts import allowance

register = template.Library()

# Only these readers can be givers; nobody else pays a query for the box.
_GIVERS = {"subscriber", "staff"}


@register.inclusion_tag("gifts/gift_box.html", takes_context=True)
def gift_box(context: dict[str, Any], page: Any, decision: Any) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    shown = bool(
        user is not None
        and user.is_authenticated
        and str(getattr(decision, "reason", "")) in _GIVERS
        and getattr(page, "pk", None)
        and not getattr(decision, "free_for_everyone", True)
    )
    if shown:
        now = getattr(request, "masthead_now", None) or clock.now()
        shown = allowance.may_give(user, now=now)
    left = allowance.gifts_left(user, now=clock.now()) if shown else None
    return {"shown": shown, "left": left, "page": page, "request": request}
