from __future__ import annotations

from typing import Any

from django import template

from masthead.accounts.chosen import Chosen, chosen_from_next

register = template.Library()


@register.simple_tag(takes_context=True)
def chosen_path(context: dict[str, Any]) -> Chosen:
    """What the reader came for (an offer, an article), from the `next` they carry."""
    request = context.get("request")
    target = context.get("redirect_field_value") or ""
    if not target and request is not None:
        target = request.POST.get("next") or request.GET.get("next") or ""
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    return chosen_from_next(target, user_id)
